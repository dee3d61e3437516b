// A real redis-server on a free loopback port, for the queue tests and bench/queue.ts.
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';

/** A loopback port nothing listens on (just now). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** redis-server with no persistence, its files in `dir`; resolves once it accepts connections, fails if it exits first. */
export async function startRedis(dir: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`redis-server did not start:\n${out}`)), 10_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('Ready to accept connections')) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.stderr!.on('data', (d) => (out += d));
    proc.on('error', reject);
    proc.on('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${out}`)));
  });
  return { url: `redis://127.0.0.1:${port}`, proc };
}
