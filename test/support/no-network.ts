// The unit tier's promise, enforced: its tests open no TCP connection at all, not even to loopback, so they
// need no server and cannot lean on one by accident. A connection fails the way a refused one does.
import net from 'node:net';

class UnitTierNetworkError extends Error {
  override readonly name = 'UnitTierNetworkError';
}

const proto = net.Socket.prototype as unknown as { connect: (...args: unknown[]) => unknown };
proto.connect = function refusedConnect(this: net.Socket, ...args: unknown[]) {
  const refused = new UnitTierNetworkError(
    `a unit test opened a network connection (${JSON.stringify(args[0])}); move it to test/integration/`,
  );
  process.nextTick(() => this.destroy(refused));
  return this;
};
