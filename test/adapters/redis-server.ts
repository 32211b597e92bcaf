/**
 * A real redis-server on 127.0.0.1 for the BullMQ tests, started per test file on a free port,
 * no persistence. When redis-server is missing the suite says so loudly: it fails when
 * `CI` or `RETHUMB_REQUIRE_REDIS` is set (CI installs Redis, so missing it there is a bug), and
 * otherwise skips with a warning naming the install command.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

export interface TestRedis {
  host: string;
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** The redis-server binary (`REDIS_SERVER` or on PATH), or undefined. */
export function findRedisServer(): string | undefined {
  const candidate = process.env.REDIS_SERVER ?? 'redis-server';
  const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  return probe.status === 0 ? candidate : undefined;
}

/** True when a missing Redis must fail the suite rather than skip it. */
export const redisRequired = Boolean(process.env.CI || process.env.RETHUMB_REQUIRE_REDIS);

export const MISSING_REDIS =
  'redis-server was not found: the BullMQ tests need a real Redis (`apt-get install -y redis-server`, or set REDIS_SERVER to its path). `bash .ci/run` installs it.';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startRedis(binary: string): Promise<TestRedis> {
  const port = await freePort();
  const child: ChildProcess = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}: ${output}`));
    });
  });
  child.stdout?.resume();
  return {
    host: '127.0.0.1',
    port,
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
