/** Shared setup for regenerator tests: a temp FileStore root and bounded polling. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
