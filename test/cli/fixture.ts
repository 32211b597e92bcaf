/** A loopback origin with N real photos (some paths broken) and a manifest of them, for CLI tests. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestOrigin, type OriginRoute, type TestOrigin } from '../../src/testing/test-origin.js';
import { makeImage } from '../helpers/images.js';

export const VARIANT_ARGS = ['--variant', 'small=48x48:cover', '--variant', 'large=120x'];

export interface Fixture {
  origin: TestOrigin;
  dir: string;
  out: string;
  records: Array<{ key: string; url: string; path: string }>;
  manifest: string;
  /** The JPEG every image route serves. */
  photo: Buffer;
  /** `--out`, variants and `--allow-host`. */
  args: string[];
  close(): Promise<void>;
}

export interface FixtureOptions {
  count: number;
  /** Route of record `i`; default: the photo. */
  route?: (i: number, photo: OriginRoute) => OriginRoute;
  /** Delay before each photo's headers, ms. @default 0 */
  delayMs?: number;
}

let photo: Buffer | undefined;

export async function fixture(options: FixtureOptions): Promise<Fixture> {
  photo ??= await makeImage('jpeg', 320, 240, { noise: true });
  const image: OriginRoute = { kind: 'image', body: photo, contentType: 'image/jpeg', ...(options.delayMs ? { delayMs: options.delayMs } : {}) };
  const routes: Record<string, OriginRoute> = {};
  const paths: string[] = [];
  for (let i = 0; i < options.count; i += 1) {
    const path = `/p/${i}.jpg`;
    paths.push(path);
    routes[path] = options.route ? options.route(i, image) : image;
  }
  const origin = await startTestOrigin({ routes });
  const dir = await mkdtemp(join(tmpdir(), 'rethumb-cli-'));
  const records = paths.map((path, i) => ({ key: `r/${i}`, url: origin.urlFor(path), path }));
  const manifest = join(dir, 'manifest.jsonl');
  await writeFile(manifest, `${records.map((r) => JSON.stringify({ key: r.key, url: r.url })).join('\n')}\n`);
  const out = join(dir, 'thumbs');
  return {
    origin,
    dir,
    out,
    records,
    manifest,
    photo,
    args: ['--out', out, ...VARIANT_ARGS, '--allow-host', origin.host],
    close: async () => {
      await origin.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
