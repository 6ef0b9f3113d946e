// `tally local up` as a user runs it: a child process that prints one JSON line once the embedded
// defaults are ready, serves them until SIGTERM, then stops cleanly with exit code 143 (128 + SIGTERM), also in the middle of a load.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../lambdas/config-file';
import { DEMO_TABLES } from '../../local/demo-data';
import type { StackInfo } from '../../local/stack';

describe('tally local up', () => {
  it('prints one JSON line of working endpoints and writes a config for them, then stops on SIGTERM with exit code 143', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tally-local-up-'));
    const configPath = join(dir, 'tally.json');
    const child = spawn(process.execPath, ['bin/tally.js', 'local', 'up', '--write-config', configPath], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr += text;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const lines: string[] = [];
    const firstLine = new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        if (lines.length === 1) resolve(line);
      });
      child.on('exit', (code) => reject(new Error(`local up exited early with code ${code}: ${stderr}`)));
    });
    try {
      const info = JSON.parse(await firstLine) as StackInfo;

      const client = new pg.Client({ connectionString: info.postgres.url });
      await client.connect();
      const { rows } = await client.query<{ answer: number }>('SELECT 41 + 1 AS answer');
      await client.end();
      expect(rows[0]?.answer).toBe(42);

      const s3 = new S3Client({
        endpoint: info.s3.endpoint,
        region: info.s3.region,
        forcePathStyle: info.s3.forcePathStyle,
        credentials: { accessKeyId: info.s3.accessKeyId, secretAccessKey: info.s3.secretAccessKey },
      });
      await s3.send(new PutObjectCommand({ Bucket: info.s3.bucket, Key: 'probe.txt', Body: 'hello' }));
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: info.s3.bucket }));
      s3.destroy();
      expect(listed.Contents?.map((o) => o.Key)).toContain('probe.txt');

      const config = await loadConfigFile(configPath);
      expect(config.tables.map((t) => t.name)).toEqual(DEMO_TABLES.map((t) => t.name));
      expect(config.postgres.url).toBe(info.postgres.url);
      expect(config.s3).toMatchObject({ endpoint: info.s3.endpoint, bucket: info.s3.bucket });
      expect(config.snowflake).toMatchObject({
        accessUrl: info.snowflake.accessUrl,
        account: info.snowflake.account,
      });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(143);
    expect(lines).toHaveLength(1);
    await rm(dir, { recursive: true, force: true });
  });

  it('stops within 10 seconds of SIGTERM while a historical run is loading into its Snowflake stand-in', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tally-local-up-load-'));
    const configPath = join(dir, 'tally.json');
    const up = spawn(
      process.execPath,
      ['bin/tally.js', 'local', 'up', '--write-config', configPath, '--seed-demo', '20000'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let upErr = '';
    up.stderr.setEncoding('utf8').on('data', (text: string) => {
      upErr += text;
    });
    const upExited = new Promise<number | null>((resolve) => up.on('exit', (code) => resolve(code)));
    const ready = new Promise<void>((resolve, reject) => {
      createInterface({ input: up.stdout }).once('line', () => resolve());
      up.on('exit', (code) => reject(new Error(`local up exited early with code ${code}: ${upErr}`)));
    });
    let run: ReturnType<typeof spawn> | undefined;
    try {
      await ready;
      run = spawn(
        process.execPath,
        ['bin/tally.js', 'run', '--pipeline', 'historical', '--config', configPath],
        {
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      const runner = run;
      let runErr = '';
      // A table's export has finished: its LoadSnowflake starts at once, so the stand-in is mid-COPY.
      await new Promise<void>((resolve, reject) => {
        runner.stderr?.setEncoding('utf8').on('data', (text: string) => {
          runErr += text;
          if (/✓ \S+ ExportToS3/.test(runErr)) resolve();
        });
        runner.on('exit', (code) =>
          reject(new Error(`the run ended before any export finished (${code}): ${runErr}`)),
        );
      });
      const signalledAt = Date.now();
      up.kill('SIGTERM');
      const deadline = new Promise<'deadline'>((resolve) => setTimeout(() => resolve('deadline'), 10_000));
      const outcome = await Promise.race([upExited, deadline]);
      console.log(`local up exited ${Date.now() - signalledAt} ms after SIGTERM, mid-load`);
      expect(outcome, `local up still running 10 s after SIGTERM: ${upErr}`).toBe(143);
      expect(upErr).toContain('SIGTERM: stopping');
    } finally {
      run?.kill('SIGKILL');
      up.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
