// The fault-injection tools themselves: the TCP proxy's switches against a small echo server, and the
// Snowflake stand-in's statement faults through the real driver.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalSnowflake, startSnowflake } from '../../local/snowflake';
import { SNOWFLAKE_ERRORS, StatementFaults } from '../support/faults/statement-faults';
import { TcpProxy } from '../support/faults/tcp-proxy';
import { connect, destroy, exec, execError } from '../support/snowflake-client';

let echo: Server;
let echoPort: number;

beforeAll(async () => {
  echo = createServer((socket) => {
    // The proxy resets connections on purpose.
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

/** Sends `data`, then collects what comes back until the connection ends or `expected` bytes arrived. */
function roundTrip(
  port: number,
  data: Buffer,
  expected = data.length,
): Promise<{ got: Buffer; error?: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const socket: Socket = createConnection({ host: '127.0.0.1', port });
    const done = (error?: string) => {
      socket.destroy();
      resolve({ got: Buffer.concat(chunks), ...(error ? { error } : {}) });
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= expected) done();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done(err.code ?? err.message));
    socket.on('close', () => done('closed'));
    socket.write(data);
  });
}

describe('the TCP proxy', () => {
  it('passes bytes both ways, refuses new connections while down, and passes again once back', async () => {
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: echoPort });
    try {
      const payload = Buffer.from('hello through the proxy');
      expect((await roundTrip(proxy.port, payload)).got.toString()).toBe(payload.toString());
      proxy.refuse('unlisten');
      expect((await roundTrip(proxy.port, payload)).error).toBe('ECONNREFUSED');
      await proxy.pass();
      proxy.refuse('reset');
      const reset = await roundTrip(proxy.port, payload);
      expect(reset.got.length).toBe(0);
      expect(reset.error).toMatch(/^(ECONNRESET|closed)$/);
      await proxy.pass();
      expect((await roundTrip(proxy.port, payload)).got.toString()).toBe(payload.toString());
    } finally {
      await proxy.stop();
    }
  });

  it('cuts a connection after the allowed bytes once its pattern was seen, and only as often as told', async () => {
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: echoPort });
    try {
      proxy.cut({ direction: 'toClient', after: 10, when: /START/, times: 1 });
      const plain = Buffer.from('x'.repeat(100));
      expect((await roundTrip(proxy.port, plain)).got.length).toBe(100);
      const marked = Buffer.from(`abcSTART${'y'.repeat(100)}`);
      const cut = await roundTrip(proxy.port, marked);
      // Counting starts at the match: the pattern itself is part of the 10 bytes let through.
      expect(cut.got.toString()).toBe('abcSTARTyyyyy');
      expect(cut.error).toMatch(/^(ECONNRESET|closed)$/);
      expect((await roundTrip(proxy.port, marked)).got.length).toBe(marked.length);
    } finally {
      await proxy.stop();
    }
  });

  it('kills open connections and keeps the order of bytes when it delays them', async () => {
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: echoPort });
    try {
      proxy.delay(20);
      const socket = createConnection({ host: '127.0.0.1', port: proxy.port });
      const received: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('error', () => {});
      for (const part of ['one ', 'two ', 'three']) socket.write(part);
      await expect.poll(() => Buffer.concat(received).toString()).toBe('one two three');
      proxy.killAll();
      await closed;
      expect(proxy.stats.broken).toBe(1);
    } finally {
      await proxy.stop();
    }
  });
});

describe('statement faults in the Snowflake stand-in', () => {
  const faults = new StatementFaults();
  let snowflake: LocalSnowflake;

  beforeAll(async () => {
    snowflake = await startSnowflake({ s3: inject('stack').s3, statementHook: faults.hook });
  });

  afterAll(async () => {
    await snowflake.stop();
  });

  it('fails the matching statement with the given error, before or after it ran, as often as told', async () => {
    const connection = await connect({
      accessUrl: snowflake.accessUrl,
      account: snowflake.account,
      username: snowflake.username,
      password: snowflake.password,
    });
    try {
      await exec(connection, 'CREATE TABLE T (ID INTEGER)');
      faults.add({ match: /^INSERT INTO T\b/, error: SNOWFLAKE_ERRORS.internal, when: 'before', times: 1 });
      const before = await execError(connection, 'INSERT INTO T VALUES (1)');
      expect(before.code).toBe('000603');
      faults.add({
        match: /^INSERT INTO T\b/,
        error: SNOWFLAKE_ERRORS.duplicateRow,
        when: 'after',
        times: 1,
      });
      const after = await execError(connection, 'INSERT INTO T VALUES (2)');
      expect(after.code).toBe('100090');
      await exec(connection, 'INSERT INTO T VALUES (3)');
      const rows = (await exec(connection, 'SELECT ID FROM T ORDER BY ID')).rows.map((r) => Number(r.ID));
      // The first insert never ran; the second ran although its client was told it failed.
      expect(rows).toEqual([2, 3]);
      expect(faults.hits).toHaveLength(2);
    } finally {
      faults.clear();
      await destroy(connection);
    }
  });
});
