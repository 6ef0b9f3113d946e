// Refuses any TCP connection to an address that is not loopback, so that a library reaching for a cloud
// metadata address or a real service fails loudly instead of leaving the machine. Installed in every test
// worker, and in a `tally` process whose environment sets TALLY_LOOPBACK_ONLY=1 (the tests set it for the
// command lines they start).
import net from 'node:net';

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i;

export class NonLoopbackConnectionError extends Error {
  override readonly name = 'NonLoopbackConnectionError';
}

function targetOf(args: unknown[]): { host?: string; path?: string } {
  const [first, second] = args;
  if (Array.isArray(first)) return targetOf(first);
  if (first !== null && typeof first === 'object') return first as { host?: string; path?: string };
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { host: typeof second === 'string' ? second : undefined };
}

export function installLoopbackGuard(): void {
  const proto = net.Socket.prototype as unknown as {
    connect: (...args: unknown[]) => unknown;
    __tallyGuard?: true;
  };
  if (proto.__tallyGuard) return;
  const connect = proto.connect;
  proto.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const { host, path } = targetOf(args);
    if (path === undefined && host !== undefined && !LOOPBACK.test(host)) {
      // Fails the socket the way a refused connection does, so its library reports the error; no packet
      // leaves. (A throw from connect() is lost by some libraries, which then wait forever.)
      const refused = new NonLoopbackConnectionError(
        `loopback only (TALLY_LOOPBACK_ONLY): refused a connection to ${host}`,
      );
      process.nextTick(() => this.destroy(refused));
      return this;
    }
    return connect.apply(this, args);
  };
  proto.__tallyGuard = true;
}
