// The audit chain stays one linear chain when writers in separate processes append at once, as the tables
// of one execution do in their own Lambdas: four writer processes, each the real writer against the S3 and
// Snowflake stand-ins, append together, then again while the warehouse refuses every connection (their
// events pile up in the chain's tail in S3), two of them replay the same undelivered events at once, and all
// append again. The audit table then verifies as one chain holding every event once, and so does the mirror.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { S3Stage } from '../../lambdas/adapters/s3';
import { closeSnowflakeConnections, openSnowflake } from '../../lambdas/adapters/snowflake';
import type { TallyConfig } from '../../lambdas/config';
import { type AuditEvent, chainOrder, verifyChain } from '../../lambdas/domain/audit';
import { ownAuditConfig } from '../support/audit';
import type { WriterAnswer } from '../support/audit-writer-process';
import { TcpProxy } from '../support/faults/tcp-proxy';

const WRITERS = ['w1', 'w2', 'w3', 'w4'] as const;

const stack = inject('stack');
const config: TallyConfig = ownAuditConfig('audit-chain');
const stage = new S3Stage(config.s3);
const warehouse = openSnowflake(config.snowflake, config.s3, { keepWarm: false });

/** A writer process and its answers, one per command, in order. */
class Writer {
  private readonly answers: Interface;
  private readonly waiting: ((answer: WriterAnswer) => void)[] = [];
  readonly stderr: string[] = [];

  constructor(readonly child: ChildProcess) {
    this.answers = createInterface({ input: child.stdout! });
    this.answers.on('line', (line) => this.waiting.shift()?.(JSON.parse(line) as WriterAnswer));
    child.stderr!.on('data', (chunk: Buffer) => this.stderr.push(chunk.toString('utf8')));
  }

  send(command: string): Promise<WriterAnswer> {
    const answer = new Promise<WriterAnswer>((resolve, reject) => {
      this.waiting.push(resolve);
      this.child.once('exit', (code) =>
        reject(new Error(`writer exited with ${code} before answering: ${this.stderr.join('')}`)),
      );
    });
    this.child.stdin!.write(`${command}\n`);
    return answer;
  }

  exit(): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    const exited = new Promise<number | null>((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end('exit\n');
    return exited;
  }
}

/** The same command to every writer at once. */
function all(command: string): Promise<WriterAnswer[]> {
  return Promise.all(writers.map((w) => w.send(command)));
}

let proxy: TcpProxy;
let writers: Writer[] = [];

beforeAll(async () => {
  const { hostname, port } = new URL(stack.snowflake.accessUrl);
  proxy = await TcpProxy.start({ host: hostname, port: Number(port) });
  await warehouse.warehouse.bootstrap([], 'gzip');
  // The writers reach the warehouse only through the proxy, which can refuse them all at once.
  const through: TallyConfig = {
    ...config,
    snowflake: { ...config.snowflake, accessUrl: `http://${proxy.address}` },
  };
  writers = WRITERS.map(
    (writer) =>
      new Writer(
        spawn(process.execPath, ['--import', 'tsx', 'test/support/audit-writer-process.ts'], {
          env: { ...process.env, TALLY_WRITER: JSON.stringify({ writer, config: through }) },
          stdio: ['pipe', 'pipe', 'pipe'],
        }),
      ),
  );
  // Loading the writer takes a while on a small machine: it is not part of what the test times.
  await all('ready');
});

afterAll(async () => {
  for (const w of writers) if (w.child.exitCode === null) w.child.kill();
  await proxy?.stop();
  await warehouse.close();
  await closeSnowflakeConnections();
});

const undelivered = async () =>
  (await stage.getJson<{ undelivered: AuditEvent[] }>(`${config.s3.prefix}/audit/tail.json`))?.undelivered ??
  [];

describe('four writer processes appending to one audit chain', () => {
  it('keep it linear through a warehouse outage, and two replaying the same events deliver each once', async () => {
    // All four at once, the warehouse up: every append lands, some after losing a race at the tail.
    const together = await all('append 4 20000');
    expect(together.flatMap((a) => a.errors)).toEqual([]);

    // The warehouse refuses every connection: each write fails as retryable by its step's deadline, its
    // event kept in S3. The writer delivering fails on the warehouse; one still waiting for it when its
    // own deadline comes fails on that wait.
    proxy.refuse();
    proxy.killAll();
    const outage = await all('append 1 3000');
    const failures = outage.flatMap((a) => a.errors);
    expect(failures).toHaveLength(WRITERS.length);
    expect(failures).toContain('WarehouseUnavailableError');
    for (const name of failures)
      expect(['WarehouseUnavailableError', 'StageUnavailableError']).toContain(name);
    expect((await undelivered()).map((e) => e.executionId).sort()).toEqual(WRITERS.map((w) => `${w}-5`));

    // Back: two writers replay the same undelivered events at once.
    await proxy.pass();
    const replays = await Promise.all([writers[0]!.send('replay 20000'), writers[1]!.send('replay 20000')]);
    expect(replays.flatMap((a) => a.errors)).toEqual([]);
    expect(await undelivered()).toEqual([]);

    const after = await all('append 2 20000');
    expect(after.flatMap((a) => a.errors)).toEqual([]);
    expect(await Promise.all(writers.map((w) => w.exit()))).toEqual(WRITERS.map(() => 0));
    // The writers did race: some conditional writes of the tail lost and were made again.
    const answers = [...together, ...outage, ...replays, ...after];
    expect(answers.reduce((n, a) => n + a.conflicts, 0)).toBeGreaterThan(0);

    const table = chainOrder(await warehouse.audit.read());
    expect(verifyChain(table)).toBeNull();
    // One chain: from the first event (the table was empty) each links to the one before.
    expect(table[0]?.prevHash).toBeNull();
    expect(table.slice(1).map((e) => e.prevHash)).toEqual(table.slice(0, -1).map((e) => e.rowHash));
    const expected = WRITERS.flatMap((w) => Array.from({ length: 7 }, (_, i) => `${w}-${i + 1}`));
    expect(table.map((e) => e.executionId).sort()).toEqual(expected.sort());
    expect(new Set(table.map((e) => e.eventId)).size).toBe(table.length);

    // The mirror holds each event once, as the table does.
    const mirrored = (await stage.list(`${config.s3.prefix}/audit/`)).filter((k) => /\/job-w\d\//.test(k));
    expect(mirrored).toHaveLength(table.length);
    const copies = await Promise.all(mirrored.map((k) => stage.getJson<AuditEvent>(k)));
    expect(chainOrder(copies as AuditEvent[])).toEqual(table);
    expect(await undelivered()).toEqual([]);
  }, 60_000);
});
