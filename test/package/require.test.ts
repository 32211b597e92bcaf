/**
 * Issue 13, point 6: `require('rethumb')` works (Node ≥ 20.19 and 22.12 load ES modules with
 * `require()`), and where it cannot, the error says the package is an ES module — never
 * ERR_PACKAGE_PATH_NOT_EXPORTED. Runs on the BUILT package, resolved by its own name.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(new URL('../../dist/index.js', import.meta.url));

async function node(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run(process.execPath, args, { cwd: ROOT, timeout: 30_000 });
    return { stdout, stderr, code: 0 };
  } catch (error) {
    const e = error as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

describe.skipIf(!built)('require() of the package', () => {
  it.each(['rethumb', 'rethumb/testing', 'rethumb/http', 'rethumb/s3', 'rethumb/bullmq'])('require(%j) gives the same exports as import', async (name) => {
    const script = `const m = require(${JSON.stringify(name)}); import(${JSON.stringify(name)}).then((e) => console.log(JSON.stringify([Object.keys(m).sort(), Object.keys(e).sort()])))`;
    const result = await node(['-e', script]);
    expect(result.code, result.stderr).toBe(0);
    const [required, imported] = JSON.parse(result.stdout) as [string[], string[]];
    expect(required.length).toBeGreaterThan(0);
    expect(required).toEqual(imported);
    expect(result.stderr).not.toMatch(/Warning/);
  });

  it('createRegenerator works through require()', async () => {
    const script = "const { createRegenerator, MemoryStore } = require('rethumb'); const r = createRegenerator({ store: new MemoryStore(), variants: { s: { width: 8 } } }); r.close().then(() => console.log('ok'))";
    expect((await node(['-e', script])).stdout.trim()).toBe('ok');
  });

  it('without require(esm), the error says it is an ES module (not ERR_PACKAGE_PATH_NOT_EXPORTED)', async () => {
    const result = await node(['--no-experimental-require-module', '-e', "require('rethumb')"]);
    if (/bad option/.test(result.stderr)) return; // a Node where require(esm) cannot be turned off
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/ERR_REQUIRE_ESM/);
    expect(result.stderr).toMatch(/require\(\) of ES Module/);
    expect(result.stderr).not.toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });
});
