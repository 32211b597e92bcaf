/** Shared setup for regenerator tests: origins and regenerators closed after each test, temp roots, bounded polling. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { createRegenerator, MemoryStore, type RegeneratorOptions } from '../../src/index.js';
import type { Regenerator } from '../../src/regenerator/regenerator.js';
import { startTestOrigin, type OriginRoute, type TestOrigin } from '../../src/testing/test-origin.js';

export interface Harness {
  /** A loopback origin, closed after the test. */
  origin(routes: Record<string, OriginRoute>): Promise<TestOrigin>;
  /** A regenerator allowed to reach `server` (MemoryStore unless given), closed after the test. */
  regenerator(server: TestOrigin, options?: Partial<RegeneratorOptions>): Regenerator;
  /** A temp directory removed after the test. */
  tempRoot(prefix: string): Promise<string>;
}

/** Call at the top of a test file: registers an afterEach that closes what each test opened. */
export function useHarness(variants: RegeneratorOptions['variants']): Harness {
  const open: Array<{ close(): Promise<void> }> = [];
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    // Regenerators first (they hold sockets to the origins), then the origins, then temp dirs.
    for (const item of open.splice(0).reverse()) await item.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  return {
    async origin(routes) {
      const server = await startTestOrigin({ routes });
      open.push(server);
      return server;
    },
    regenerator(server, options = {}) {
      const regen = createRegenerator({ store: new MemoryStore(), variants, allowHosts: [server.host], ...options });
      open.push(regen);
      return regen;
    },
    async tempRoot(prefix) {
      const { root, cleanup } = await tempRoot(prefix);
      cleanups.push(cleanup);
      return root;
    },
  };
}

export async function tempRoot(prefix: string): Promise<{ root: string; cleanup(): Promise<void> }> {
  const root = await mkdtemp(join(tmpdir(), `rethumb-${prefix}-`));
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** Poll `condition` every 20 ms until it holds or `timeoutMs` passes (bounded, never a fixed sleep). */
export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return condition();
}
