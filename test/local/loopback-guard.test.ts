import net from 'node:net';
import { describe, expect, it } from 'vitest';

describe('the loopback guard every test runs under', () => {
  it('refuses a connection to a cloud metadata address before any packet leaves', async () => {
    const failure = (socket: net.Socket) => new Promise<Error>((resolve) => socket.once('error', resolve));
    const metadata = await failure(new net.Socket().connect(80, '169.254.169.254'));
    expect(metadata.message).toMatch(
      /loopback only \(TALLY_LOOPBACK_ONLY\): refused a connection to 169\.254\.169\.254/,
    );
    const named = await failure(net.connect({ host: 'metadata.google.internal', port: 80 }));
    expect(named.message).toMatch(/loopback only/);
  });

  it('lets loopback connections through', async () => {
    const server = net.createServer((s) => s.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    const reply = await new Promise<string>((resolve, reject) => {
      const client = net.connect(port, '127.0.0.1');
      let data = '';
      client.on('data', (d) => {
        data += d;
      });
      client.on('end', () => resolve(data));
      client.on('error', reject);
    });
    server.close();
    expect(reply).toBe('ok');
  });
});
