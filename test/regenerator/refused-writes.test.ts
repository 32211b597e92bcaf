/**
 * A store that refuses writes (a full disk, a read-only mount, a directory in the way of a file)
 * must not be reported as written: `rebuild()`'s results say what the store took and what it
 * refused, so a batch does not count such a record as done.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileStore, type RecordResult } from '../../src/index.js';
import { makeImage } from '../helpers/images.js';
import { useHarness } from './support.js';

const VARIANTS = { small: { width: 48, height: 48, fit: 'cover' }, large: { width: 160 } } as const;
const { origin, regenerator, tempRoot } = useHarness(VARIANTS);
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 320, 240, { noise: true });
});

describe('rebuild() when the store refuses a write', () => {
  it('reports the variants written and the ones refused, not the ones rendered', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' }, '/b.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const root = await tempRoot('refused');
    // A directory where `a`'s small thumbnail goes: the rename into place fails (EISDIR).
    await mkdir(join(root, 'a', 'small.webp', 'x'), { recursive: true });
    const regen = regenerator(server, { store: new FileStore(root) });
    const results: RecordResult[] = [];
    const report = await regen.rebuild(
      [
        { key: 'a', url: server.urlFor('/a.jpg') },
        { key: 'b', url: server.urlFor('/b.jpg') },
      ],
      { onRecord: (r) => results.push(r) },
    );
    const a = results.find((r) => r.key === 'a')!;
    const b = results.find((r) => r.key === 'b')!;
    expect(a).toMatchObject({ outcome: 'regenerated', written: 1, unstored: { variants: 1, message: expect.stringContaining('small.webp') } });
    expect(b).toMatchObject({ outcome: 'regenerated', written: 2 });
    expect(b.unstored).toBeUndefined();
    const large = await new FileStore(root).get({ key: 'a', variant: 'large', format: 'webp' });
    expect(a.bytesWritten).toBe(large!.body.length);
    expect(report.bytesWritten).toBe(a.bytesWritten + b.bytesWritten);
  });
});
