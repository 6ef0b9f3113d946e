// The demo schema: customers, orders, order lines and events with many PostgreSQL types and an
// `updated_at` cursor, generated from a seeded PRNG so that a size and a seed always give the same rows.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { TableConfig } from '../lambdas/config';

export const DEMO_TABLE_NAMES = ['customers', 'orders', 'order_lines', 'events'] as const;
export type DemoTable = (typeof DEMO_TABLE_NAMES)[number];

export const DEMO_TABLES: TableConfig[] = DEMO_TABLE_NAMES.map((name) => ({
  schema: 'public',
  name,
  primaryKey: ['id'],
  cursorColumn: 'updated_at',
}));

export type DemoCounts = Record<DemoTable, number>;

const DDL = `
DROP TABLE IF EXISTS events, order_lines, orders, customers CASCADE;
DROP TYPE IF EXISTS customer_tier, order_status;
CREATE TYPE customer_tier AS ENUM ('bronze', 'silver', 'gold', 'platinum');
CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded');
CREATE TABLE customers (
  id bigint PRIMARY KEY,
  external_id uuid NOT NULL,
  full_name text NOT NULL,
  email text,
  country text NOT NULL,
  tier customer_tier NOT NULL,
  is_active boolean NOT NULL,
  credit_limit numeric(12,2) NOT NULL,
  birth_date date,
  tags text[] NOT NULL,
  preferences jsonb NOT NULL,
  notes text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE orders (
  id bigint PRIMARY KEY,
  customer_id bigint NOT NULL,
  order_number text NOT NULL,
  status order_status NOT NULL,
  ordered_on date NOT NULL,
  total_amount numeric(14,2) NOT NULL,
  currency text NOT NULL,
  discount double precision NOT NULL,
  is_gift boolean NOT NULL,
  shipping_address jsonb NOT NULL,
  delivery_window interval,
  placed_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE TABLE order_lines (
  id bigint PRIMARY KEY,
  order_id bigint NOT NULL,
  line_no integer NOT NULL,
  sku text NOT NULL,
  product_name text NOT NULL,
  quantity integer NOT NULL,
  unit_price numeric(12,4) NOT NULL,
  weight_kg real,
  updated_at timestamptz NOT NULL
);
CREATE TABLE events (
  id bigint PRIMARY KEY,
  event_uuid uuid NOT NULL,
  customer_id bigint,
  event_type text NOT NULL,
  occurred_at timestamptz NOT NULL,
  session_id uuid,
  properties jsonb NOT NULL,
  scores integer[],
  fingerprint bytea,
  duration_ms integer,
  updated_at timestamptz NOT NULL
);
CREATE INDEX ON orders (updated_at);
CREATE INDEX ON order_lines (updated_at);
CREATE INDEX ON customers (updated_at);
CREATE INDEX ON events (updated_at);
`;

/** mulberry32: a tiny, fast PRNG; ample for demo data and fully determined by its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
type Cell = string | number | boolean | null;

const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1));
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;
const chance = (rng: Rng, p: number) => rng() < p;
const hex = (rng: Rng, bytes: number) =>
  Array.from({ length: bytes }, () => int(rng, 0, 255).toString(16).padStart(2, '0')).join('');
function uuid(rng: Rng): string {
  const h = hex(rng, 16).split('');
  h[12] = '4';
  h[16] = '89ab'[int(rng, 0, 3)] as string;
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
const money = (rng: Rng, min: number, max: number) => (min + rng() * (max - min)).toFixed(2);

/** Every timestamp of the seeded rows lies in 2025, so rows changed later always sort after them. */
const BASE_MS = Date.UTC(2025, 0, 1);
const YEAR_MS = 365 * 24 * 3600 * 1000;
const timestamp = (ms: number) => new Date(ms).toISOString();
const date = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const FIRST = ['Anna', 'Bram', 'Chloé', 'Dmitri', 'Emeka', 'Fatima', 'Günter', 'Hiro', 'Inès', 'José', 'Zoë'];
const LAST = ["O'Brien", 'van der Berg', 'Schmidt', 'Nakamura', 'Okafor', 'García', 'Kowalski', 'Smith'];
const COUNTRIES = ['NL', 'DE', 'FR', 'US', 'GB', 'JP', 'NG', 'ES', 'PL', 'BR'];
const TIERS = ['bronze', 'silver', 'gold', 'platinum'];
const TAGS = ['vip', 'newsletter', 'b2b', 'returning', 'wholesale', 'beta'];
const NOTES = [
  'Prefers "express" delivery, weekends only',
  'Call first\nthen ring twice',
  'Tab\tseparated\\and backslashed',
  'Ünïcödé ✓ — 日本語',
];
const STATUSES = ['pending', 'paid', 'shipped', 'delivered', 'cancelled', 'refunded'];
const CURRENCIES = ['EUR', 'USD', 'GBP', 'JPY'];
const CITIES = ['Amsterdam', 'Berlin', 'Lyon', 'Austin', 'Leeds', 'Osaka', 'Lagos', 'Kraków'];
const PRODUCTS = [
  'Espresso beans 1kg',
  'Pour-over kettle',
  'Burr grinder',
  'Ceramic mug, 35cl',
  'Filter papers',
];
const EVENT_TYPES = ['page_view', 'search', 'add_to_cart', 'checkout', 'purchase', 'support_ticket'];

function customerRow(rng: Rng, id: number, updatedMs: number): Cell[] {
  const first = pick(rng, FIRST);
  const last = pick(rng, LAST);
  const createdMs = updatedMs - int(rng, 0, 90) * 86_400_000;
  const tags = TAGS.filter(() => chance(rng, 0.3));
  const noteRoll = rng();
  return [
    id,
    uuid(rng),
    `${first} ${last}`,
    chance(rng, 0.9) ? `${first}.${last}.${id}@example.com`.toLowerCase().replace(/[^a-z0-9.@]/g, '') : null,
    pick(rng, COUNTRIES),
    pick(rng, TIERS),
    chance(rng, 0.85),
    money(rng, 0, 50_000),
    chance(rng, 0.8) ? date(Date.UTC(1950, 0, 1) + int(rng, 0, 50 * 365) * 86_400_000) : null,
    `{${tags.join(',')}}`,
    JSON.stringify({ language: pick(rng, ['en', 'nl', 'de', 'ja']), marketing: chance(rng, 0.5) }),
    noteRoll < 0.6 ? null : noteRoll < 0.7 ? '' : pick(rng, NOTES),
    timestamp(createdMs),
    timestamp(updatedMs),
  ];
}

function orderRow(rng: Rng, id: number, customers: number, updatedMs: number, total: string): Cell[] {
  const placedMs = updatedMs - int(rng, 0, 14 * 86_400) * 1000;
  return [
    id,
    int(rng, 1, customers),
    `ORD-${String(id).padStart(8, '0')}`,
    pick(rng, STATUSES),
    date(placedMs),
    total,
    pick(rng, CURRENCIES),
    pick(rng, [0, 0, 0, 0.05, 0.1, 0.125]),
    chance(rng, 0.1),
    JSON.stringify({ city: pick(rng, CITIES), line1: `${int(rng, 1, 300)} Main St`, zip: hex(rng, 3) }),
    chance(rng, 0.7) ? `${int(rng, 0, 6)} days ${int(rng, 0, 23)}:00:00` : null,
    timestamp(placedMs),
    timestamp(updatedMs),
  ];
}

function lineRow(rng: Rng, id: number, orderId: number, lineNo: number, updatedMs: number): Cell[] {
  const product = int(rng, 0, PRODUCTS.length - 1);
  return [
    id,
    orderId,
    lineNo,
    `SKU-${String(product).padStart(4, '0')}-${int(rng, 1, 9)}`,
    PRODUCTS[product] as string,
    int(rng, 1, 12),
    (1 + rng() * 199).toFixed(4),
    chance(rng, 0.9) ? Math.round(rng() * 5000) / 1000 : null,
    timestamp(updatedMs),
  ];
}

function eventRow(rng: Rng, id: number, customers: number, updatedMs: number): Cell[] {
  const type = pick(rng, EVENT_TYPES);
  return [
    id,
    uuid(rng),
    chance(rng, 0.8) ? int(rng, 1, customers) : null,
    type,
    timestamp(updatedMs - int(rng, 0, 3600) * 1000),
    chance(rng, 0.9) ? uuid(rng) : null,
    JSON.stringify({ type, path: `/p/${int(rng, 1, 500)}`, ab: pick(rng, ['A', 'B']) }),
    chance(rng, 0.5)
      ? `{${Array.from({ length: int(rng, 1, 4) }, () => int(rng, -100, 100)).join(',')}}`
      : null,
    chance(rng, 0.5) ? `\\x${hex(rng, 8)}` : null,
    chance(rng, 0.9) ? int(rng, 0, 120_000) : null,
    timestamp(updatedMs),
  ];
}

const COLUMNS: Record<DemoTable, string> = {
  customers:
    'id, external_id, full_name, email, country, tier, is_active, credit_limit, birth_date, tags, preferences, notes, created_at, updated_at',
  orders:
    'id, customer_id, order_number, status, ordered_on, total_amount, currency, discount, is_gift, shipping_address, delivery_window, placed_at, updated_at',
  order_lines: 'id, order_id, line_no, sku, product_name, quantity, unit_price, weight_kg, updated_at',
  events:
    'id, event_uuid, customer_id, event_type, occurred_at, session_id, properties, scores, fingerprint, duration_ms, updated_at',
};

/** A CSV line for COPY: NULL unquoted and empty, every other value quoted so '' stays an empty string. */
function csvLine(cells: readonly Cell[]): string {
  return `${cells.map((c) => (c === null ? '' : `"${String(c).replace(/"/g, '""')}"`)).join(',')}\n`;
}

interface Batch {
  customers: Cell[][];
  orders: Cell[][];
  order_lines: Cell[][];
  events: Cell[][];
}

/** Orders with their lines, so that an order's total is the sum of its lines. */
function ordersWithLines(
  rng: Rng,
  firstOrder: number,
  firstLine: number,
  count: number,
  customers: number,
  updatedAt: (i: number) => number,
): Pick<Batch, 'orders' | 'order_lines'> {
  const orders: Cell[][] = [];
  const lines: Cell[][] = [];
  let lineId = firstLine;
  for (let i = 0; i < count; i++) {
    const orderId = firstOrder + i;
    const updatedMs = updatedAt(i);
    let cents = 0;
    const n = int(rng, 1, 4);
    for (let l = 1; l <= n; l++) {
      const line = lineRow(rng, lineId++, orderId, l, updatedMs);
      cents += Math.round(Number(line[6]) * 100) * Number(line[5]);
      lines.push(line);
    }
    orders.push(orderRow(rng, orderId, customers, updatedMs, (cents / 100).toFixed(2)));
  }
  return { orders, order_lines: lines };
}

async function copyRows(client: pg.Client, table: DemoTable, rows: readonly Cell[][]): Promise<void> {
  if (rows.length === 0) return;
  const stream = client.query(copyFrom(`COPY ${table} (${COLUMNS[table]}) FROM STDIN WITH (FORMAT csv)`));
  await pipeline(Readable.from(rows.map(csvLine)), stream);
}

async function withClient<T>(pgUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * (Re)creates the demo schema and fills it: `rows` orders, one customer per five orders, one to four lines
 * per order and `rows` events. The same `rows` and `seed` always give the same content.
 */
export async function seedDemo(pgUrl: string, options: { rows: number; seed: number }): Promise<DemoCounts> {
  const { rows, seed } = options;
  if (!Number.isSafeInteger(rows) || rows < 1)
    throw new RangeError(`rows must be a positive integer, got ${rows}`);
  const rng = prng(seed);
  const customers = Math.max(1, Math.ceil(rows / 5));
  const spread = (i: number, n: number) =>
    BASE_MS + Math.floor((i / n) * YEAR_MS) + int(rng, 0, 3_599) * 1000;
  const batch: Batch = {
    customers: Array.from({ length: customers }, (_, i) => customerRow(rng, i + 1, spread(i, customers))),
    ...ordersWithLines(rng, 1, 1, rows, customers, (i) => spread(i, rows)),
    events: Array.from({ length: rows }, (_, i) => eventRow(rng, i + 1, customers, spread(i, rows))),
  };
  return withClient(pgUrl, async (client) => {
    await client.query('BEGIN');
    try {
      await client.query(DDL);
      for (const table of DEMO_TABLE_NAMES) await copyRows(client, table, batch[table]);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
    await client.query(`ANALYZE ${DEMO_TABLE_NAMES.join(', ')}`);
    return countsOf(batch);
  });
}

export interface DemoChanges {
  readonly inserted: DemoCounts;
  readonly updated: DemoCounts;
}

/**
 * Inserts new rows into every demo table and updates some existing ones, all with `updated_at` set to the
 * server's current time, later than any seeded row. Which rows change is decided by `seed`.
 */
export async function changeDemo(pgUrl: string, options: { seed: number }): Promise<DemoChanges> {
  const rng = prng(options.seed ^ 0x5eed);
  return withClient(pgUrl, async (client) => {
    await client.query('BEGIN');
    try {
      const sizes = await tableSizes(client);
      const nowMs = Date.parse(
        (await client.query<{ now: string }>('SELECT now()::text AS now')).rows[0]!.now,
      );
      const fresh = (n: number) => Math.max(1, Math.ceil(n * 0.02));
      const newCustomers = fresh(sizes.customers.count);
      const newOrders = fresh(sizes.orders.count);
      const batch: Batch = {
        customers: Array.from({ length: newCustomers }, (_, i) =>
          customerRow(rng, sizes.customers.max + 1 + i, nowMs),
        ),
        ...ordersWithLines(
          rng,
          sizes.orders.max + 1,
          sizes.order_lines.max + 1,
          newOrders,
          sizes.customers.max + newCustomers,
          () => nowMs,
        ),
        events: Array.from({ length: fresh(sizes.events.count) }, (_, i) =>
          eventRow(rng, sizes.events.max + 1 + i, sizes.customers.max, nowMs),
        ),
      };
      for (const table of DEMO_TABLE_NAMES) await copyRows(client, table, batch[table]);
      const updated = {} as DemoCounts;
      for (const table of DEMO_TABLE_NAMES) {
        const ids = pickIds(rng, sizes[table].max, fresh(sizes[table].count));
        const change = UPDATES[table];
        const result = await client.query(
          `UPDATE ${table} SET ${change}, updated_at = now() WHERE id = ANY($1::bigint[])`,
          [ids],
        );
        updated[table] = result.rowCount ?? 0;
      }
      await client.query('COMMIT');
      return { inserted: countsOf(batch), updated };
    } catch (err) {
      await client.query('ROLLBACK');
      throw err;
    }
  });
}

/** A plausible business change per table, so that updated rows differ in content, not only in time. */
const UPDATES: Record<DemoTable, string> = {
  customers: `tier = 'gold', notes = 'Upgraded after review'`,
  orders: `status = 'shipped', delivery_window = interval '2 days'`,
  order_lines: 'quantity = quantity + 1',
  events: `properties = properties || '{"reprocessed": true}'`,
};

function pickIds(rng: Rng, max: number, n: number): number[] {
  const ids = new Set<number>();
  while (ids.size < Math.min(n, max)) ids.add(int(rng, 1, max));
  return [...ids].sort((a, b) => a - b);
}

async function tableSizes(client: pg.Client): Promise<Record<DemoTable, { count: number; max: number }>> {
  const sizes = {} as Record<DemoTable, { count: number; max: number }>;
  for (const table of DEMO_TABLE_NAMES) {
    const { rows } = await client.query<{ count: string; max: string | null }>(
      `SELECT count(*) AS count, max(id) AS max FROM ${table}`,
    );
    sizes[table] = { count: Number(rows[0]?.count ?? 0), max: Number(rows[0]?.max ?? 0) };
  }
  return sizes;
}

function countsOf(batch: Batch): DemoCounts {
  return {
    customers: batch.customers.length,
    orders: batch.orders.length,
    order_lines: batch.order_lines.length,
    events: batch.events.length,
  };
}
