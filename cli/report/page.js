// The report page's own script, inlined after Chart.js: draws each chart from the JSON block the page
// carries (`#report-data`). Every label is drawn on a canvas by Chart.js, never written as HTML.
(() => {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const palette = {
    historical: '#1f6feb',
    incremental: '#2da44e',
    failed: '#cf222e',
    p50: '#8250df',
    p95: '#bf8700',
  };
  // Ticks as precise as the span needs: a demo's runs are seconds apart, a month's are days.
  const ticks = (points) => {
    const xs = points.map((p) => p.x);
    const span = xs.length > 0 ? Math.max(...xs) - Math.min(...xs) : 0;
    const [from, to] = span < 3_600_000 ? [11, 19] : span < 86_400_000 ? [5, 16] : [0, 16];
    return (ms) => new Date(ms).toISOString().replace('T', ' ').slice(from, to);
  };
  const counts = { beginAtZero: true, ticks: { precision: 0 } };
  const base = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { position: 'bottom' } },
    elements: { point: { radius: 4 } },
  };

  for (const [i, table] of data.tables.entries()) {
    const canvas = document.getElementById(`rows-${i}`);
    if (!canvas) continue;
    const time = ticks(table.runs);
    const series = (pipeline) =>
      table.runs
        .filter((r) => r.status === 'succeeded' && r.pipeline === pipeline)
        .map((r) => ({ x: r.x, y: r.y }));
    new Chart(canvas, {
      type: 'line',
      data: {
        datasets: [
          {
            label: 'historical',
            data: series('historical'),
            borderColor: palette.historical,
            backgroundColor: palette.historical,
          },
          {
            label: 'incremental',
            data: series('incremental'),
            borderColor: palette.incremental,
            backgroundColor: palette.incremental,
          },
          {
            label: 'failed',
            data: table.runs.filter((r) => r.status === 'failed').map((r) => ({ x: r.x, y: r.y })),
            borderColor: palette.failed,
            backgroundColor: palette.failed,
            showLine: false,
            pointStyle: 'crossRot',
            pointRadius: 7,
          },
        ],
      },
      options: {
        ...base,
        scales: {
          x: {
            type: 'linear',
            title: { display: true, text: 'run (UTC)' },
            ticks: { callback: (v) => time(v), maxTicksLimit: 6 },
          },
          y: { ...counts, title: { display: true, text: 'rows moved' } },
        },
      },
    });
  }

  const bars = (id, labels, datasets, yTitle, y = counts) => {
    const canvas = document.getElementById(id);
    if (!canvas) return;
    new Chart(canvas, {
      type: 'bar',
      data: { labels, datasets },
      options: { ...base, scales: { y: { ...y, title: { display: true, text: yTitle } } } },
    });
  };
  bars(
    'durations',
    data.durations.map((d) => d.phase),
    [
      { label: 'p50', data: data.durations.map((d) => d.p50Ms / 1000), backgroundColor: palette.p50 },
      { label: 'p95', data: data.durations.map((d) => d.p95Ms / 1000), backgroundColor: palette.p95 },
    ],
    'seconds',
    { beginAtZero: true },
  );
  // One bar per table and percentile for each step; a table's steps share its hue.
  const hues = ['#1f6feb', '#2da44e', '#bf8700', '#8250df', '#cf222e', '#1b7c83'];
  bars(
    'steps',
    data.steps.labels,
    data.steps.tables.flatMap((t, i) => [
      {
        label: `${t.table} p50`,
        data: t.p50Ms.map((ms) => (ms === null ? null : ms / 1000)),
        backgroundColor: hues[i % hues.length],
      },
      {
        label: `${t.table} p95`,
        data: t.p95Ms.map((ms) => (ms === null ? null : ms / 1000)),
        backgroundColor: `${hues[i % hues.length]}80`,
      },
    ]),
    'seconds',
    { beginAtZero: true },
  );
  bars(
    'failures',
    data.failuresByError.map((f) => f.error),
    [{ label: 'failures', data: data.failuresByError.map((f) => f.count), backgroundColor: palette.failed }],
    'failures',
  );
  bars(
    'retries',
    data.retriesByStep.map((r) => r.step),
    [{ label: 'retries', data: data.retriesByStep.map((r) => r.count), backgroundColor: palette.p95 }],
    'retries',
  );
  document.body.dataset.charts = 'drawn';
})();
