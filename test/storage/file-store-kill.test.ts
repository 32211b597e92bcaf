/**
 * Invariant 3 (DESIGN.md): a thumbnail in the store is whole or absent, even after `kill -9`
 * mid-write. A child process writes large real images through the built FileStore; the test
 * SIGKILLs it mid-stream, then checks every file on disk and everything the store returns.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/storage/file-store.js';
import type { OutputFormat } from '../../src/types.js';
import { makeImage } from '../helpers/images.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/file-store-writer.mjs', import.meta.url));
const BUILT = ['storage/file-store.js', 'storage/store-key.js', 'errors.js', 'types.js'].map((f) => path.join(REPO, 'dist', f));

const ROUNDS = 5;
const WORKERS = 3;
const ROUND_TIMEOUT_MS = 20_000;

interface Source {
  format: OutputFormat;
  /** Written as a derived stand-in: its bytes must never be found without a marker. */
  degraded: boolean;
  body: Buffer;
  file: string;
}

const FINAL = /^([A-Za-z0-9][A-Za-z0-9_-]*)\.(png|webp)$/;
const MARKER = /^\.([A-Za-z0-9][A-Za-z0-9_-]*)\.(png|webp)\.degraded$/;
const TEMP = /^\.([A-Za-z0-9][A-Za-z0-9_-]*)\.(png|webp)\.[0-9a-f]{16}\.tmp$/;

/** Builds dist/ when it is missing or older than any file in src/ (`npm test` builds first anyway). */
async function ensureBuilt(): Promise<void> {
  const newestSource = await newestMtime(path.join(REPO, 'src'));
  const built = await Promise.all(BUILT.map((f) => stat(f).then((s) => s.mtimeMs, () => 0)));
  if (Math.min(...built) >= newestSource) return;
  await promisify(execFile)(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO, timeout: 120_000 });
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) newest = Math.max(newest, (await stat(path.join(entry.parentPath, entry.name))).mtimeMs);
  }
  return newest;
}

/** Starts the writer, SIGKILLs it once it has finished `killAfter` puts (plus `delayMs`), resolves how it ended. */
function runAndKill(root: string, sources: readonly Source[], killAfter: number, delayMs: number): Promise<{ signal: NodeJS.Signals | null; puts: number; stderr: string }> {
  const specs = sources.map((s) => `${s.format}:${s.degraded ? 1 : 0}:${s.file}`);
  const child = spawn(process.execPath, [FIXTURE, root, '2000', String(WORKERS), ...specs], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let puts = 0;
    let stderr = '';
    let buffered = '';
    let killing = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`writer made ${puts} puts in ${ROUND_TIMEOUT_MS} ms without reaching ${killAfter}; stderr: ${stderr}`));
    }, ROUND_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('put ')) puts++;
      if (!killing && puts >= killAfter) {
        killing = true;
        if (delayMs === 0) child.kill('SIGKILL');
        else setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      resolve({ signal, puts, stderr });
    });
  });
}

/** Fully decodes `body` (truncation is an error) and returns its size. */
async function decodeFully(body: Buffer): Promise<{ width: number; height: number }> {
  const { info } = await sharp(body, { failOn: 'truncated' }).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height };
}

describe('FileStore survives kill -9 mid-write', () => {
  let work: string;
  let root: string;
  let sources: Source[];

  beforeAll(async () => {
    await ensureBuilt();
    work = await mkdtemp(path.join(tmpdir(), 'rethumb-kill-'));
    root = path.join(work, 'store');
    await mkdir(path.join(work, 'sources'));
    // Large noise images (1–4 MB) so each write takes long enough to be caught half-done.
    const plan: Array<[OutputFormat, boolean, Promise<Buffer>]> = [
      ['png', false, makeImage('png', 1100, 1000, { noise: true })],
      ['png', true, makeImage('png', 800, 700, { noise: true })],
      ['webp', false, makeImage('webp', 900, 700, { noise: true })],
      ['png', false, makeImage('png', 600, 500, { noise: true })],
      ['webp', true, makeImage('webp', 500, 400, { noise: true })],
    ];
    sources = await Promise.all(
      plan.map(async ([format, degraded, image], i) => {
        const body = await image;
        const file = path.join(work, 'sources', `${i}.${format}`);
        await writeFile(file, body);
        return { format, degraded, body, file };
      }),
    );
    expect(Math.max(...sources.map((s) => s.body.length))).toBeGreaterThan(1_000_000);
  }, 120_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** Every file on disk and every entry the store returns is whole and consistent. */
  async function assertIntact(): Promise<{ finals: number; temps: number }> {
    const sourceOf = (format: string, body: Buffer) => sources.find((s) => s.format === format && s.body.equals(body));
    let finals = 0;
    let temps = 0;
    const finalPaths = new Set<string>();
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const file = path.join(entry.parentPath, entry.name);
      const final = FINAL.exec(entry.name);
      if (final) {
        finals++;
        finalPaths.add(file);
        const body = await readFile(file);
        const source = sourceOf(final[2] as string, body);
        expect(source, `${file} is not byte-equal to any image written (${body.length} bytes)`).toBeDefined();
        await expect(decodeFully(body), file).resolves.toMatchObject({ width: expect.any(Number) });
        if (source?.degraded) {
          // A derived image must never read as real: its marker was written before it.
          expect(await stat(path.join(entry.parentPath, `.${entry.name}.degraded`)).then(() => true, () => false), `${file} is derived but unmarked`).toBe(true);
        }
      } else if (TEMP.test(entry.name)) {
        temps++;
      } else {
        expect(entry.name, `unexpected file ${file}`).toMatch(MARKER);
      }
    }

    const store = new FileStore(root);
    let listedCount = 0;
    for await (const listing of store.list()) {
      listedCount++;
      const address = { key: listing.key, variant: listing.variant, format: listing.format };
      const got = await store.get(address);
      expect(got, `${listing.key}/${listing.variant}`).toBeDefined();
      const source = sourceOf(listing.format, got?.body ?? Buffer.alloc(0));
      expect(source, `${listing.key}/${listing.variant} from get() is not an image that was written`).toBeDefined();
      expect(listing.size).toBe(got?.body.length);
      await decodeFully(got?.body ?? Buffer.alloc(0));
      if (source?.degraded) expect(got?.degraded && listing.degraded, `${listing.key}/${listing.variant} derived but reported real`).toBe(true);
      expect(finalPaths.has(path.join(root, listing.key, `${listing.variant}.${listing.format === 'png' ? 'png' : 'webp'}`))).toBe(true);
    }
    // list() yields exactly the final files: no temp file, no marker.
    expect(listedCount).toBe(finals);
    return { finals, temps };
  }

  it(
    'leaves only whole, decodable thumbnails and hidden temp files after repeated SIGKILLs',
    async () => {
      let totalPuts = 0;
      let finals = 0;
      let temps = 0;
      for (let round = 0; round < ROUNDS; round++) {
        // Different moments: after a few puts or after many, at once or a little later.
        const killAfter = 2 + round * 4;
        const delayMs = (round % 3) * 15;
        const { signal, puts, stderr } = await runAndKill(root, sources, killAfter, delayMs);
        expect(stderr).toBe('');
        expect(signal, `round ${round}: the writer finished before it was killed`).toBe('SIGKILL');
        totalPuts += puts;
        ({ finals, temps } = await assertIntact());
        expect(finals).toBeGreaterThan(0);
      }
      expect(totalPuts).toBeGreaterThanOrEqual(ROUNDS * 2);
      // Leftover temp files show that kills landed mid-write; without any, this test proved nothing.
      expect(temps).toBeGreaterThan(0);
    },
    180_000,
  );
});
