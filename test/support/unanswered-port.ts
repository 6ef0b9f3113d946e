// A loopback port that never answers a connect, the way a subnet with no route behaves: a stopped child
// process listens with a backlog of one, and once that backlog is full the kernel drops further SYNs.
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';

export interface UnansweredPort {
  readonly port: number;
  close(): void;
}

const LISTENER =
  "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port); })";

export async function unansweredPort(): Promise<UnansweredPort> {
  const child: ChildProcess = spawn(process.execPath, ['-e', LISTENER], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', (data) => resolve(Number(String(data).trim())));
  });
  child.kill('SIGSTOP');
  // Fill the accept queue; these never complete either once it is full.
  const fillers = Array.from({ length: 4 }, () => net.connect(port, '127.0.0.1').on('error', () => {}));
  await new Promise((resolve) => setTimeout(resolve, 200));
  return {
    port,
    close() {
      for (const socket of fillers) socket.destroy();
      child.kill('SIGKILL');
    },
  };
}
