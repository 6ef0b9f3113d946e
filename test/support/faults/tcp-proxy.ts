// A TCP proxy on a free loopback port in front of a real server (PostgreSQL, the S3 or the Snowflake
// stand-in), whose behaviour a test switches at run time to inject network faults at a chosen moment.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Which way bytes flow: from the client to the server, or from the server back to the client. */
export type Direction = 'toServer' | 'toClient';

export interface CutRule {
  /** The direction whose bytes are counted. */
  readonly direction: Direction;
  /** Bytes that may still pass in that direction before the connection is cut. */
  readonly after: number;
  /**
   * Start counting on a connection only once its bytes in `direction` contain this pattern (read as
   * latin1 text, so an HTTP request line or a SQL keyword can be matched); counting starts at the match.
   * Default: count from the moment the rule is set.
   */
  readonly when?: RegExp;
  /** How many connections to cut before the rule goes away by itself. Default: until cleared. */
  readonly times?: number;
}

export interface ProxyStats {
  /** Connections accepted (including those refused right after accepting). */
  accepted: number;
  /** Connections this proxy ended on purpose: refused, killed or cut. */
  broken: number;
  toServer: number;
  toClient: number;
}

interface Pair {
  readonly client: Socket;
  readonly server: Socket;
  /** Per rule, how many bytes counting has seen on this pair (absent until its pattern matched). */
  readonly counted: Map<CutRule, number>;
}

export class TcpProxy {
  readonly stats: ProxyStats = { accepted: 0, broken: 0, toServer: 0, toClient: 0 };
  private readonly pairs = new Set<Pair>();
  private server: Server | null = null;
  private refusing = false;
  private delayMs = 0;
  private rule: { rule: CutRule; remaining: number } | null = null;

  private constructor(
    private readonly target: { readonly host: string; readonly port: number },
    private listenPort: number,
  ) {}

  /** Starts a proxy in front of `target`, listening on `port` (default: a free one). */
  static async start(target: { host: string; port: number }, port = 0): Promise<TcpProxy> {
    const proxy = new TcpProxy(target, port);
    await proxy.listen();
    return proxy;
  }

  get port(): number {
    return this.listenPort;
  }

  /** `host:port` of the proxy, to put where the real server's address would go. */
  get address(): string {
    return `127.0.0.1:${this.listenPort}`;
  }

  /** Back to a plain pipe: accept, no delay, no cut. Open connections are left alone. */
  async pass(): Promise<void> {
    this.refusing = false;
    this.delayMs = 0;
    this.rule = null;
    if (!this.server) await this.listen();
  }

  /**
   * Refuses new connections: `reset` accepts and resets them at once (the client sees a connection
   * reset), `unlisten` stops listening (the client sees ECONNREFUSED). Open connections are left alone;
   * `killAll` ends them.
   */
  refuse(how: 'reset' | 'unlisten' = 'unlisten'): void {
    this.refusing = true;
    if (how === 'unlisten' && this.server) {
      // Closing stops accepting at once; its callback would wait for the open connections to end.
      this.server.close();
      this.server = null;
    }
  }

  /** Resets every open connection, as a crashed server or a dropped network path would. */
  killAll(): void {
    for (const pair of [...this.pairs]) this.breakPair(pair);
  }

  /** Cuts connections once `rule.after` bytes have flowed in `rule.direction` (see `CutRule`). */
  cut(rule: CutRule): void {
    this.rule = { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY };
  }

  /** Holds every chunk in both directions for `ms` before passing it on. */
  delay(ms: number): void {
    this.delayMs = ms;
  }

  async stop(): Promise<void> {
    this.killAll();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.listenPort, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address && typeof address === 'object') this.listenPort = address.port;
    this.server = server;
  }

  private accept(client: Socket): void {
    this.stats.accepted += 1;
    if (this.refusing) {
      this.stats.broken += 1;
      client.resetAndDestroy();
      return;
    }
    const server = createConnection({ host: this.target.host, port: this.target.port });
    const pair: Pair = { client, server, counted: new Map() };
    this.pairs.add(pair);
    // Errors end the pair; the peer sees its side closed, as it would through a real network path.
    const end = () => {
      if (!this.pairs.delete(pair)) return;
      client.destroy();
      server.destroy();
    };
    client.on('error', end).on('close', end);
    server.on('error', end).on('close', end);
    this.forward(pair, client, server, 'toServer');
    this.forward(pair, server, client, 'toClient');
  }

  /**
   * Copies `from` to `to` chunk by chunk, in order. Reading pauses while a delayed chunk waits, so the
   * order of bytes is kept whatever the delay.
   */
  private forward(pair: Pair, from: Socket, to: Socket, direction: Direction): void {
    from.on('data', (chunk: Buffer) => {
      const pass = (data: Buffer) => {
        if (!this.pairs.has(pair)) return;
        const allowed = this.allowance(pair, direction, data);
        if (allowed === null) {
          this.stats[direction] += data.length;
          to.write(data);
          return;
        }
        // Let the allowed bytes through, then reset both sides mid-stream.
        this.stats[direction] += allowed;
        if (allowed > 0) to.write(data.subarray(0, allowed));
        this.breakPair(pair);
      };
      if (this.delayMs <= 0) {
        pass(chunk);
        return;
      }
      from.pause();
      void sleep(this.delayMs).then(() => {
        pass(chunk);
        from.resume();
      });
    });
    from.on('end', () => to.end());
  }

  /** Null when the whole chunk may pass; otherwise how many of its bytes may pass before the cut. */
  private allowance(pair: Pair, direction: Direction, chunk: Buffer): number | null {
    const active = this.rule;
    if (!active || active.rule.direction !== direction || active.remaining <= 0) return null;
    const { rule } = active;
    let start = 0;
    let seen = pair.counted.get(rule);
    if (seen === undefined) {
      if (rule.when) {
        const match = rule.when.exec(chunk.toString('latin1'));
        if (!match) return null;
        start = match.index;
      }
      seen = 0;
    }
    const total = seen + (chunk.length - start);
    if (total <= rule.after) {
      pair.counted.set(rule, total);
      return null;
    }
    active.remaining -= 1;
    if (active.remaining <= 0) this.rule = null;
    return start + (rule.after - seen);
  }

  private breakPair(pair: Pair): void {
    if (!this.pairs.delete(pair)) return;
    this.stats.broken += 1;
    pair.client.resetAndDestroy();
    pair.server.resetAndDestroy();
  }
}
