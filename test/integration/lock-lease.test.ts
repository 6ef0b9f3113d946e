// Table leases in the Snowflake stand-in through the real driver: one execution at a time may hold a
// table; the holder may renew; release and expiry free it.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { closeSnowflakeConnections, openSnowflake } from '../../lambdas/adapters/snowflake';
import { snowflakeSchema } from '../../lambdas/config';
import { s3Config } from '../support/postgres';

const run = randomBytes(3).toString('hex');
const stack = inject('stack');
const snowflake = openSnowflake(
  snowflakeSchema.parse({ ...stack.snowflake, schema: `LOCKS_${run.toUpperCase()}` }),
  s3Config({ prefix: `locks-${run}` }),
  { keepWarm: false },
);
const { leases } = snowflake;
const HOUR = 3_600_000;
const t0 = new Date('2025-03-01T10:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

beforeAll(() => snowflake.warehouse.bootstrap([], 'gzip'));
afterAll(async () => {
  await snowflake.close();
  await closeSnowflakeConnections();
});

describe('table leases in the warehouse', () => {
  it('lets the first execution take a free table and answers the second with the holder', async () => {
    const first = await leases.acquire('public.a', 'exec-1', t0, 2 * HOUR);
    expect(first).toEqual({
      table: 'public.a',
      executionId: 'exec-1',
      acquiredAt: t0.toISOString(),
      expiresAt: at(2 * HOUR).toISOString(),
    });
    const second = await leases.acquire('public.a', 'exec-2', at(1000), 2 * HOUR);
    expect(second.executionId).toBe('exec-1');
    expect(second.expiresAt).toBe(at(2 * HOUR).toISOString());
  });

  it('lets the holder take its table again and extends the lease', async () => {
    await leases.acquire('public.b', 'exec-1', t0, 2 * HOUR);
    const again = await leases.acquire('public.b', 'exec-1', at(HOUR), 2 * HOUR);
    expect(again).toMatchObject({ executionId: 'exec-1', acquiredAt: t0.toISOString() });
    expect(again.expiresAt).toBe(at(3 * HOUR).toISOString());
  });

  it('frees the table when its holder releases it, and not when another execution tries to', async () => {
    await leases.acquire('public.c', 'exec-1', t0, 2 * HOUR);
    await leases.release('public.c', 'exec-2');
    expect((await leases.acquire('public.c', 'exec-2', at(1000), 2 * HOUR)).executionId).toBe('exec-1');
    await leases.release('public.c', 'exec-1');
    expect((await leases.acquire('public.c', 'exec-2', at(2000), 2 * HOUR)).executionId).toBe('exec-2');
  });

  it('frees the table once the lease has expired, for a holder that never came back', async () => {
    await leases.acquire('public.d', 'crashed', t0, 2 * HOUR);
    expect((await leases.acquire('public.d', 'exec-2', at(2 * HOUR - 1), HOUR)).executionId).toBe('crashed');
    const taken = await leases.acquire('public.d', 'exec-2', at(2 * HOUR), HOUR);
    expect(taken).toEqual({
      table: 'public.d',
      executionId: 'exec-2',
      acquiredAt: at(2 * HOUR).toISOString(),
      expiresAt: at(3 * HOUR).toISOString(),
    });
  });

  it('keeps leases of different tables apart', async () => {
    await leases.acquire('public.e', 'exec-1', t0, HOUR);
    expect((await leases.acquire('public.f', 'exec-2', t0, HOUR)).executionId).toBe('exec-2');
  });
});
