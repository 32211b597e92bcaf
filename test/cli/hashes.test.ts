/**
 * `rethumb rebuild --hashes FILE`, and the flow a user follows with it: a rebuild writes each
 * record's ThumbHash; the application stores the hashes beside its records (here: merged into
 * its CSV manifest by key); after the store is lost and some originals with it, the next
 * rebuild's fallback report carries the hashes, and feeding that report back — to the CLI, and
 * to the service that answers image requests — yields placeholders that look like the images.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createThumbnailHandler } from '../../src/adapters/http/index.js';
import { readManifest } from '../../src/batch/read-manifest.js';
import { ErrorCodes } from '../../src/errors.js';
import { parseThumbHash } from '../../src/imaging/parse-thumbhash.js';
import { renderVariants } from '../../src/imaging/render-variants.js';
import { createRegenerator, FileStore, type ThumbRecord } from '../../src/index.js';
import { startTestOrigin, type OriginRoute, type TestOrigin } from '../../src/testing/test-origin.js';
import { deltaE76, meanColour } from '../helpers/colour-difference.js';
import { photoLike } from '../helpers/photo-like.js';
import { until } from '../regenerator/support.js';
import { VARIANT_ARGS } from './fixture.js';
import { journalEntries, readJsonLinesFile, runCli, startCli } from './support.js';

const FORMATS = ['jpeg', 'png', 'webp'] as const;
let photos: Buffer[];

beforeAll(async () => {
  photos = await Promise.all(Array.from({ length: 8 }, (_, i) => photoLike(i, i % 2 ? 320 : 240, i % 2 ? 240 : 320, FORMATS[i % 3]!)));
});

interface Setup {
  origin: TestOrigin;
  /** Indices whose original is gone (404 from now on). */
  gone: Set<number>;
  dir: string;
  out: string;
  keys: string[];
  urls: string[];
  args: string[];
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

/** An origin serving `count` photo-like images (cycling the eight), any of which can be made to vanish; `delayMs` before each answer. */
async function setup(count: number, delayMs = 0): Promise<Setup> {
  const gone = new Set<number>();
  const routes: Record<string, OriginRoute> = {};
  for (let i = 0; i < count; i += 1) {
    const photo = photos[i % photos.length]!;
    routes[`/p/${i}`] = {
      kind: 'handler',
      handle: (_request, response) => {
        setTimeout(() => {
          if (gone.has(i)) {
            response.statusCode = 404;
            response.end('gone');
            return;
          }
          response.setHeader('Content-Type', `image/${FORMATS[(i % photos.length) % 3]}`);
          response.end(photo);
        }, delayMs);
      },
    };
  }
  const origin = await startTestOrigin({ routes });
  const dir = await mkdtemp(join(tmpdir(), 'rethumb-hashes-'));
  open.push(async () => {
    await origin.close();
    await rm(dir, { recursive: true, force: true });
  });
  const out = join(dir, 'thumbs');
  const keys = Array.from({ length: count }, (_, i) => `photos/${i}`);
  return { origin, gone, dir, out, keys, urls: keys.map((_, i) => origin.urlFor(`/p/${i}`)), args: ['--out', out, ...VARIANT_ARGS, '--allow-host', origin.host] };
}

/** The hash rethumb computes for photo `i` with the CLI tests' variants (the same decode). */
async function expectedHash(i: number): Promise<string> {
  const variants = [
    { name: 'small', width: 48, height: 48, fit: 'cover' as const },
    { name: 'large', width: 120, height: undefined, fit: 'inside' as const },
  ];
  return (await renderVariants(photos[i % photos.length]!, variants, { format: 'webp', quality: 80, maxPixels: 100_000_000 })).thumbhash!;
}

async function isFlat(body: Buffer): Promise<boolean> {
  const { channels } = await sharp(body).stats();
  return channels.slice(0, 3).every((c) => c.stdev < 1);
}

describe('rethumb rebuild --hashes', () => {
  it('writes one {"key","thumbhash"} line per regenerated record: gone and already-stored records have none', async () => {
    const s = await setup(6);
    s.gone.add(3);
    const manifest = join(s.dir, 'photos.csv');
    await writeFile(manifest, `key,url\n${s.keys.map((k, i) => `${k},${s.urls[i]}`).join('\n')}\n`);
    const hashes = join(s.dir, 'hashes.jsonl');
    const run = await runCli(['rebuild', manifest, ...s.args, '--hashes', hashes, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(summary.hashes).toEqual({ file: hashes, records: 5 });
    const lines = await readJsonLinesFile<{ key: string; thumbhash: string }>(hashes);
    expect(lines.map((l) => l.key).sort()).toEqual(s.keys.filter((_, i) => i !== 3).sort());
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(['key', 'thumbhash']);
      expect(parseThumbHash(line.thumbhash).ok).toBe(true);
      expect(line.thumbhash).toBe(await expectedHash(Number(line.key.split('/')[1])));
    }

    // Everything stored now: a rebuild regenerates nothing, so its hashes file is empty.
    const again = join(s.dir, 'again.jsonl');
    const second = await runCli(['rebuild', manifest, ...s.args, '--hashes', again]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`thumbhashes: 0 records → ${again}`));
    expect(await readFile(again, 'utf8')).toBe('');
  });

  it('with --resume after kill -9, the hashes file holds every record either run rendered, exactly once', async () => {
    const s = await setup(40, 120);
    const manifest = join(s.dir, 'photos.jsonl');
    await writeFile(manifest, s.keys.map((key, i) => JSON.stringify({ key, url: s.urls[i] })).join('\n') + '\n');
    const hashes = join(s.dir, 'hashes.jsonl');
    const journal = join(s.out, '.rethumb', 'journal.jsonl');
    const first = startCli(['rebuild', manifest, ...s.args, '--concurrency', '2', '--quiet', '--hashes', hashes]);
    expect(await until(async () => (await journalEntries(journal)).length >= 8, 20_000)).toBe(true);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    // Written at the end of a run, from the journal: a killed run leaves none (the resume writes it whole).
    expect(existsSync(hashes)).toBe(false);

    const resumed = await runCli(['rebuild', manifest, ...s.args, '--concurrency', '4', '--quiet', '--resume', '--hashes', hashes]);
    expect(resumed.code, resumed.stderr).toBe(0);
    const keys = (await readJsonLinesFile<{ key: string }>(hashes)).map((l) => l.key);
    expect(new Set(keys).size).toBe(keys.length);
    // Exactly the records the journal shows rendered, by either run. The rest the killed run
    // rendered after its last journal flush: the resumed run found them stored and decoded
    // nothing (documented); they are few — at most the records in flight or unflushed.
    const entries = await journalEntries(journal);
    const rendered = entries.filter((e) => e.o === 'regenerated').map((e) => s.keys[e.i]!);
    expect(keys.sort()).toEqual(rendered.sort());
    const stored = entries.filter((e) => e.o === 'stored');
    expect(rendered.length + stored.length).toBe(40);
    expect(stored.length).toBeLessThan(20);
  });
});

const HAS_JQ = spawnSync('jq', ['--version']).status === 0;

describe('the README’s jq merge of a hashes file into a JSON Lines manifest', () => {
  it.skipIf(!HAS_JQ)('adds each record’s thumbhash by key and leaves the others as they were', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const command = /`(jq -cn --slurpfile h hashes\.jsonl .*? photos\.jsonl > photos-with-hashes\.jsonl)`/.exec(readme)?.[1];
    expect(command).toBeDefined();
    const dir = await mkdtemp(join(tmpdir(), 'rethumb-jq-'));
    open.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'hashes.jsonl'), '{"key":"a","thumbhash":"YdcFTYpmhnmvdohsiEeIeHlgl/hH"}\n');
    await writeFile(join(dir, 'photos.jsonl'), '{"key":"a","url":"http://x/a"}\n{"key":"b","url":"http://x/b","thumbhash":"old"}\n');
    execFileSync('bash', ['-c', command!], { cwd: dir });
    expect(await readJsonLinesFile(join(dir, 'photos-with-hashes.jsonl'))).toEqual([
      { key: 'a', url: 'http://x/a', thumbhash: 'YdcFTYpmhnmvdohsiEeIeHlgl/hH' },
      { key: 'b', url: 'http://x/b', thumbhash: 'old' },
    ]);
  });
});

describe('the user flow: hashes stored with the records, fallbacks drawn from them', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('rebuild --hashes → merge into the manifest → store and originals lost → fallback report keeps the hashes → fed back: ThumbHash placeholders, not flat ones', async () => {
    const s = await setup(8);

    // 1. A rebuild, asking for the hashes.
    const manifest = join(s.dir, 'photos.csv');
    await writeFile(manifest, `key,url\n${s.keys.map((k, i) => `${k},${s.urls[i]}`).join('\n')}\n`);
    const hashesFile = join(s.dir, 'hashes.jsonl');
    expect((await runCli(['rebuild', manifest, ...s.args, '--hashes', hashesFile, '--quiet'])).code).toBe(0);
    const store = new FileStore(s.out);
    const real = new Map<string, Buffer>();
    for (const key of s.keys) real.set(key, (await store.get({ key, variant: 'small', format: 'webp' }))!.body);

    // 2. The application stores each hash beside its record (an UPDATE … WHERE key = …); its
    //    next export carries a thumbhash column. One record's hash got mangled on the way.
    const hashes = new Map((await readJsonLinesFile<{ key: string; thumbhash: string }>(hashesFile)).map((l) => [l.key, l.thumbhash]));
    expect(hashes.size).toBe(8);
    hashes.set('photos/5', 'mangled!');
    const withHashes = join(s.dir, 'photos-with-hashes.csv');
    await writeFile(withHashes, `key,url,thumbhash\n${s.keys.map((k, i) => `${k},${s.urls[i]},${hashes.get(k)}`).join('\n')}\n`);

    // 3. The outage: the thumbnail store is lost, and three originals with it.
    await rm(s.out, { recursive: true, force: true });
    for (const i of [2, 5, 6]) s.gone.add(i);

    // 4. The recovery rebuild: the three fall back, and its fallback report re-emits their records, hashes included.
    const report2 = join(s.dir, 'run2.json');
    expect((await runCli(['rebuild', withHashes, ...s.args, '--quiet', '--report', report2])).code).toBe(0);
    type Fallback = ThumbRecord & { fallback: { outcome: string; failures: Array<{ source: string; code: string }> } };
    const fallbacks2 = await readJsonLinesFile<Fallback>(join(s.dir, 'run2.fallbacks.jsonl'));
    expect(fallbacks2.map((f) => f.key).sort()).toEqual(['photos/2', 'photos/5', 'photos/6']);
    for (const f of fallbacks2) {
      expect(f.thumbhash).toBe(hashes.get(f.key!));
      expect(f.fallback.outcome).toBe('placeholder');
      const ignored = f.fallback.failures.filter((x) => x.source === 'thumbhash');
      expect(ignored.map((x) => x.code)).toEqual(f.key === 'photos/5' ? [ErrorCodes.INVALID_THUMBHASH] : []);
    }

    // 5. Fed back to the CLI (the sources are still gone): the same placeholders, the hashes still there.
    const report3 = join(s.dir, 'run3.json');
    expect((await runCli(['rebuild', join(s.dir, 'run2.fallbacks.jsonl'), ...s.args, '--quiet', '--retry-failed', '--report', report3])).code).toBe(0);
    const fallbacks3 = await readJsonLinesFile<Fallback>(join(s.dir, 'run3.fallbacks.jsonl'));
    expect(fallbacks3.map((f) => [f.key, f.thumbhash])).toEqual(fallbacks2.map((f) => [f.key, f.thumbhash]));

    // 6. Fed back to the service that answers image requests: its records (here, the fallback
    //    report's) resolve through rethumb/http to placeholders drawn from their hashes.
    const records = new Map<string, ThumbRecord>();
    for await (const entry of readManifest(join(s.dir, 'run3.fallbacks.jsonl'))) records.set(entry.record.key!, entry.record);
    const regen = createRegenerator({
      store: new FileStore(s.out),
      variants: { small: { width: 48, height: 48, fit: 'cover' }, large: { width: 120 } },
      allowHosts: [s.origin.host],
    });
    open.push(() => regen.close());
    const handler = createThumbnailHandler({ regenerator: regen, resolve: (key) => records.get(key) });
    const server = createServer((req, res) => void handler(req, res));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    for (const key of ['photos/2', 'photos/6', 'photos/5']) {
      const response = await fetch(`${base}/small/${key}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-thumbnail-outcome')).toBe('placeholder');
      expect(response.headers.get('cache-control')).toBe('public, max-age=60');
      const body = Buffer.from(await response.arrayBuffer());
      expect(await sharp(body).metadata()).toMatchObject({ width: 48, height: 48, format: 'webp' });
      if (key === 'photos/5') {
        expect(await isFlat(body), key).toBe(true);
        const thumb = await regen.get(records.get(key)!, 'small');
        expect(thumb.failures?.at(-1)).toMatchObject({ source: 'thumbhash', code: ErrorCodes.INVALID_THUMBHASH });
        continue;
      }
      expect(await isFlat(body), key).toBe(false);
      expect(deltaE76(await meanColour(real.get(key)!), await meanColour(body)), key).toBeLessThan(10);
    }
    // Placeholders are never stored.
    for (const key of ['photos/2', 'photos/5', 'photos/6']) expect(await new FileStore(s.out).head({ key, variant: 'small', format: 'webp' })).toBeUndefined();
  });
});
