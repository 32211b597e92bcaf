/**
 * Runs every runnable example in its `--demo` mode (a loopback origin, a bounded lifetime) as a
 * real child process on the BUILT package, and the example user test suite with vitest.
 * Type-checking of the examples is `npm run typecheck` (checkJs).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findRedisServer, MISSING_REDIS, redisRequired, startRedis, type TestRedis } from '../adapters/redis-server.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(new URL('../../dist/adapters/http/index.js', import.meta.url));
const redisBinary = findRedisServer();

async function demo(name: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run(process.execPath, [`examples/${name}`, '--demo'], { cwd: ROOT, timeout: 60_000, env: { ...process.env, ...env } });
  return stdout;
}

describe.skipIf(!built)('examples (--demo, on the built package)', () => {
  it('express-service serves a regenerated thumbnail', async () => {
    expect(await demo('express-service.js')).toMatch(/^demo: 200 image\/webp outcome=regenerated$/m);
  });

  it('fastify-service serves a thumbnail and a 404 placeholder', async () => {
    expect(await demo('fastify-service.js')).toMatch(/^demo: 200 outcome=regenerated; unknown key: 404 image\/webp$/m);
  });

  it('batch-jsonl rebuilds a manifest with two fallbacks', async () => {
    expect(await demo('batch-jsonl.js')).toMatch(/^demo: 12 records: .*"regenerated":10.*"placeholder":2.*; 2 fell back$/m);
  });

  it('prometheus-metrics counts outcomes and fetches', async () => {
    const out = await demo('prometheus-metrics.js');
    expect(out).toMatch(/^rethumb_thumbnails_total\{outcome="placeholder",reason="RETHUMB_HTTP_STATUS",via="get"\} 1$/m);
    expect(out).toMatch(/^rethumb_origin_fetches_total\{ok="true",code="none"\} 1$/m);
  });

  it('the user-suite example passes under vitest', async () => {
    const vitest = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
    const { stdout } = await run(process.execPath, [vitest, 'run', '--config', 'examples/vitest.config.ts'], { cwd: ROOT, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
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
  });
});
