/**
 * Runs every example as a real child process on the BUILT package, the way its header says:
 * in its `--demo` mode (a loopback origin, a bounded lifetime), and in its documented normal
 * mode (a manifest and an output directory; a server on PORT until SIGTERM; a worker on
 * REDIS_URL) against a loopback origin this test starts. Also the local demo (`npm run demo`)
 * twice, and the example user test suite with vitest. Type-checking of the examples is
 * `npm run typecheck` (checkJs).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { enqueueManifest } from '../../src/adapters/bullmq/index.js';
import { startTestOrigin, type TestOrigin } from '../../src/testing/test-origin.js';
import { findRedisServer, MISSING_REDIS, redisRequired, startRedis, type TestRedis } from '../adapters/redis-server.js';
import { makeImage } from '../helpers/images.js';
import { until } from '../regenerator/support.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(new URL('../../dist/adapters/http/index.js', import.meta.url));
const redisBinary = findRedisServer();

async function demo(name: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [`examples/${name}`, '--demo'], { cwd: ROOT, timeout: 60_000, env: { ...process.env, ...env } });
  return stdout;
}

/** An example run as documented, until it prints a line matching `ready`; `stop()` sends SIGTERM and waits for the exit. */
async function serve(name: string, env: Record<string, string>, ready: RegExp): Promise<{ match: RegExpMatchArray; stop(): Promise<{ code: number | null; stderr: string }> }> {
  const child = spawn(process.execPath, [`examples/${name}`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stderr })));
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const started = await until(async () => ready.test(stdout) || child.exitCode !== null, 30_000);
  const match = ready.exec(stdout);
  if (!started || !match) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not start: ${stdout}\n${stderr}`);
  }
  return {
    match,
    stop: async () => {
      child.kill('SIGTERM');
      const result = await exited;
      clearTimeout(kill);
      return result;
    },
  };
}

let origin: TestOrigin;
let work: string;
beforeAll(async () => {
  const photo = await makeImage('jpeg', 320, 240, { noise: true });
  const routes: Record<string, { kind: 'image'; body: Buffer; contentType: string }> = {};
  for (let n = 0; n < 4; n += 1) routes[`/p/${n}.jpg`] = { kind: 'image', body: photo, contentType: 'image/jpeg' };
  origin = await startTestOrigin({ routes });
  work = await mkdtemp(join(tmpdir(), 'rethumb-examples-'));
});
afterAll(async () => {
  await origin.close();
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(!built)('examples (--demo, on the built package)', () => {
  it('express-service serves a regenerated thumbnail', async () => {
    expect(await demo('express-service.js')).toMatch(/^demo: 200 image\/webp outcome=regenerated$/m);
  });

  it('fastify-service serves a thumbnail and a 404 placeholder', async () => {
    expect(await demo('fastify-service.js')).toMatch(/^demo: 200 outcome=regenerated; unknown key: 404 image\/webp$/m);
  });

  it('batch-jsonl rebuilds a manifest with two fallbacks', async () => {
    expect(await demo('batch-jsonl.js')).toMatch(/^12 records: .*"regenerated":10.*"placeholder":2.*; 2 fell back \{"RETHUMB_HTTP_STATUS":1,"RETHUMB_NOT_AN_IMAGE":1\}$/m);
  });

  it('prometheus-metrics counts outcomes and fetches', async () => {
    const out = await demo('prometheus-metrics.js');
    expect(out).toMatch(/^rethumb_thumbnails_total\{outcome="placeholder",reason="RETHUMB_HTTP_STATUS",via="get"\} 1$/m);
    expect(out).toMatch(/^rethumb_origin_fetches_total\{ok="true",code="none"\} 1$/m);
  });

  it('the local demo (npm run demo), run twice: the second run says which stored entry is degraded', async () => {
    const cwd = await mkdtemp(join(work, 'demo-'));
    const demoRun = async (): Promise<string> => (await run(process.execPath, [join(ROOT, 'examples/demo.js')], { cwd, timeout: 90_000 })).stdout;
    const first = await demoRun();
    expect(first).toMatch(/^ {2}photos\/sunset +regenerated/m);
    expect(first).toMatch(/photos\/sunset small after its original was lost: derived \(degraded: true\)/);
    const second = await demoRun();
    expect(second).toMatch(/^ {2}photos\/sunset +stored \(degraded\)/m);
    expect(second).toMatch(/^ {2}photos\/logo +stored +$/m);
  }, 180_000);

  it('the user-suite example passes under vitest, run as its header says (npm run …)', async () => {
    const header = await readFile(join(ROOT, 'examples/user-suite/fallback.test.ts'), 'utf8');
    const script = /Run here with `npm run ([\w:-]+)`/.exec(header)?.[1];
    expect(script, 'the header names the npm script that runs it').toBeDefined();
    const { stdout } = await run('npm', ['run', '--silent', script!], { cwd: ROOT, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
    expect(stdout).toMatch(/Tests\s+3 passed \(3\)/);
  });

  describe('bullmq-worker', () => {
    let redis: TestRedis | undefined;
    beforeAll(async () => {
      if (redisBinary) redis = await startRedis(redisBinary);
    });
    afterAll(async () => {
      await redis?.stop();
    });
    it.skipIf(!redisBinary && !redisRequired)('enqueues, works and reports over a real Redis', async () => {
      if (!redis) throw new Error(MISSING_REDIS);
      expect(await demo('bullmq-worker.js', { REDIS_URL: redis.url })).toMatch(/^demo: 11 records .*"regenerated":10.*"placeholder":1.*, failed 0, pending 0$/m);
    });

    it.skipIf(!redisBinary && !redisRequired)('as documented: a worker on REDIS_URL works a queue until SIGTERM, then exits 0', async () => {
      if (!redis) throw new Error(MISSING_REDIS);
      const thumbs = join(work, 'worker-thumbs');
      const queueName = `examples-worker-${process.pid}`;
      const worker = await serve('bullmq-worker.js', { REDIS_URL: redis.url, QUEUE: queueName, THUMBS_DIR: thumbs, ALLOW_HOSTS: origin.host }, /^worker on queue /m);
      const queue = new Queue(queueName, { connection: { host: redis.host, port: redis.port } });
      try {
        await enqueueManifest(queue, [{ key: 'users/7', url: origin.urlFor('/p/3.jpg') }]);
        expect(await until(async () => existsSync(join(thumbs, 'users/7/small.webp')), 30_000)).toBe(true);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
      }
      expect((await worker.stop()).code).toBe(0);
    });
  });
});

describe.skipIf(!built)('examples as their headers document them (not --demo)', () => {
  beforeEach(() => origin.resetCounts());

  it('batch-jsonl MANIFEST OUT_DIR: every record refused without --allow-host (no crash, fallbacks written), all rebuilt with it', async () => {
    const manifest = join(work, 'batch.jsonl');
    await writeFile(manifest, [0, 1, 2, 3].map((n) => JSON.stringify({ key: `b/${n}`, url: origin.urlFor(`/p/${n}.jpg`) })).join('\n') + '\n{"broken\n');
    const out = join(work, 'batch-out');
    const refused = await run(process.execPath, ['examples/batch-jsonl.js', manifest, out], { cwd: ROOT, timeout: 60_000 });
    expect(refused.stdout).toMatch(/^4 records: .*"placeholder":4.*; 4 fell back \{"RETHUMB_FORBIDDEN_ADDRESS":4\}$/m);
    expect(refused.stdout).toContain('--allow-host');
    expect(refused.stderr).toContain(`${manifest}:5: not valid JSON, skipped`);
    expect((await readFile(join(out, 'fallbacks.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(4);
    expect(origin.hits()).toBe(0);

    const allowed = await run(process.execPath, ['examples/batch-jsonl.js', manifest, out, '--allow-host', origin.host], { cwd: ROOT, timeout: 60_000 });
    expect(allowed.stdout).toMatch(/^4 records: .*"regenerated":4.*; 0 fell back \{\}$/m);
    expect(origin.hits()).toBe(4);
    expect(await readFile(join(out, 'fallbacks.jsonl'), 'utf8')).toBe('');
  });

  it('batch-jsonl without arguments prints its usage and exits 2', async () => {
    await expect(run(process.execPath, ['examples/batch-jsonl.js'], { cwd: ROOT })).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });
  });

  it('express-service on PORT serves health and a 404 placeholder, and stops on SIGTERM', async () => {
    const server = await serve('express-service.js', { PORT: '0', THUMBS_DIR: join(work, 'express') }, /^listening on (http:\/\/127\.0\.0\.1:\d+)\//m);
    const base = server.match[1]!;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const unknown = await fetch(`${base}/thumbs/small/users/0`);
    await unknown.arrayBuffer();
    expect([unknown.status, unknown.headers.get('content-type')]).toEqual([404, 'image/webp']);
    expect((await server.stop()).code).toBe(0);
  });

  it('fastify-service on PORT serves a 404 placeholder, and stops on SIGTERM', async () => {
    const server = await serve('fastify-service.js', { PORT: '0' }, /^listening on (http:\/\/127\.0\.0\.1:\d+)\//m);
    const unknown = await fetch(`${server.match[1]}/thumbs/small/users/0`);
    await unknown.arrayBuffer();
    expect(unknown.status).toBe(404);
    expect((await server.stop()).code).toBe(0);
  });

  it('prometheus-metrics serves /metrics on PORT, and stops on SIGTERM', async () => {
    const server = await serve('prometheus-metrics.js', { PORT: '0' }, /^metrics on (http:\/\/127\.0\.0\.1:\d+\/metrics)$/m);
    const text = await (await fetch(server.match[1]!)).text();
    expect(text).toContain('rethumb_downloads_queued');
    expect((await server.stop()).code).toBe(0);
  });
});
