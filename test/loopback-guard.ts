// Refuses, in every test worker, any TCP connection to an address that is not loopback, so that a library
// reaching for a cloud metadata address or a real service fails the test loudly instead of leaving the machine.
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
      throw new NonLoopbackConnectionError(`tests contact loopback only; refused a connection to ${host}`);
    }
    return connect.apply(this, args);
  };
  proto.__tallyGuard = true;
}
