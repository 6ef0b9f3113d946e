// pipeline.compression end to end: a historical run of the synthesized definition with zstd part files,
// from the embedded PostgreSQL through the S3 stand-in into the Snowflake stand-in, then the same with gzip,
// which the bootstrap's file format follows. On a Node without zstd (before 22.15) the run must fail by the
// setting's name instead; `npm run test:node24` runs this file on the Lambda runtime's Node 24.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { zstdAvailable } from '../../lambdas/adapters/compression';
import { S3Stage } from '../../lambdas/adapters/s3';
import type { TallyConfig } from '../../lambdas/config';
import type { Compression } from '../../lambdas/domain/compression';
import { synthesizeDefinition } from '../../lib/synthesize-definition';
import { DEMO_TABLES, type DemoCounts, seedDemo } from '../../local/demo-data';
import type { StateMachineDefinition } from '../../local/interpreter';
import { localConfig } from '../../local/local-config';
import { runPipeline } from '../../local/runner';
import { auditLog } from '../support/audit';
import { onDatabase } from '../support/postgres';

const stack = inject('stack');
const label = `codec_${process.pid}`;
const TABLES = DEMO_TABLES.filter((t) => ['customers', 'orders'].includes(t.name));
let base: TallyConfig;
let seeded: DemoCounts;

beforeAll(async () => {
  await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label}`));
  await onDatabase(stack.postgres.url, (c) => c.query(`CREATE DATABASE ${label}`));
  const url = new URL(stack.postgres.url);
  url.pathname = `/${label}`;
  seeded = await seedDemo(url.toString(), { rows: 300, seed: 5 });
  const local = localConfig(stack, TABLES, { lagSeconds: 0 });
  base = {
    ...local,
    postgres: { ...local.postgres, url: url.toString() },
    s3: { ...local.s3, prefix: label },
    snowflake: { ...local.snowflake, schema: label.toUpperCase() },
  };
}, 120_000);

afterAll(async () => {
  await onDatabase(stack.postgres.url, (c) => c.query(`DROP DATABASE IF EXISTS ${label} WITH (FORCE)`));
});

async function historical(compression: Compression) {
  const config: TallyConfig = { ...base, pipeline: { ...base.pipeline, compression } };
  const definition = synthesizeDefinition(config) as unknown as StateMachineDefinition;
  const verdict = await runPipeline({
    config,
    input: { pipeline: 'historical' },
    definition,
    retryIntervalMs: 10,
    printAlert: () => {},
  });
  const events = (await auditLog(config)).filter((e) => e.executionId === verdict.executionId);
  const stage = new S3Stage(config.s3);
  const keys = await stage.list(`${config.s3.prefix}/staging/historical/`);
  return { verdict, events, keys };
}

type Run = Awaited<ReturnType<typeof historical>>;

/**
 * That a run succeeded with part files of `extension` only (those `earlier` did not write), and that each
 * table's success event closes its count at what was seeded.
 */
function expectLoaded(run: Run, extension: string, earlier: readonly string[] = []): void {
  expect(run.verdict.status).toBe('succeeded');
  const keys = run.keys.filter((k) => !earlier.includes(k));
  expect(keys.length).toBeGreaterThan(0);
  expect(
    keys.every((k) => k.endsWith(extension)),
    keys.join(', '),
  ).toBe(true);
  for (const table of TABLES) {
    const success = run.events.find(
      (e) => e.eventType === 'success' && e.sourceTable === `public.${table.name}`,
    );
    const expected = seeded[table.name as keyof DemoCounts];
    expect(success, table.name).toMatchObject({
      rowsLoaded: expected,
      recordCountAfter: expected,
      countMatch: true,
    });
  }
}

describe('pipeline.compression, end to end', () => {
  it('loads zstd part files where Node has zstd, then gzip ones after the codec changes back; refuses zstd by the setting’s name where Node has none', {
    timeout: 240_000,
  }, async () => {
    const zstd = await historical({ codec: 'zstd', level: 3 });
    if (zstdAvailable()) {
      expectLoaded(zstd, '.csv.zst');
    } else {
      expect(zstd.verdict.status).toBe('failed');
      const failures = zstd.events.filter((e) => e.eventType === 'failure');
      expect(failures.length).toBe(TABLES.length);
      for (const f of failures) {
        expect(f.errorType).toBe('InvalidConfigError');
        expect(f.errorMessage).toMatch(/^pipeline\.compression\.codec is "zstd", but this Node\.js/);
      }
      expect(zstd.keys).toEqual([]);
    }
    expectLoaded(await historical({ codec: 'gzip', level: 1 }), '.csv.gz', zstd.keys);
  });
});
