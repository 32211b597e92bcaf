import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, StoreError } from '../../src/errors.js';
import { FileStore } from '../../src/storage/file-store.js';
import { FORMAT_EXTENSIONS } from '../../src/types.js';
import type { StoreEntryAddress } from '../../src/storage/store.js';
import { makeImage } from '../helpers/images.js';
import { describeStoreContract, listed, rejectionCode } from './store-contract.js';

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), 'rethumb-file-store-'));
}

/** Every path under `dir`, relative, `/`-separated, directories with a trailing `/`, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .map((e) => {
      const rel = path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/');
      return e.isDirectory() ? `${rel}/` : rel;
    })
    .sort();
}

/** Damage on disk: the entry's file is rewritten in place, as a failing disk leaves it. */
function damageFile(root: string) {
  return (address: StoreEntryAddress, bytes: Buffer) => writeFile(path.join(root, address.key, `${address.variant}.${FORMAT_EXTENSIONS[address.format]}`), bytes);
}

describeStoreContract('FileStore', async () => {
  const root = await tempDir();
  return { store: new FileStore(root), damage: damageFile(root), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describeStoreContract('FileStore without fsync', async () => {
  const root = await tempDir();
  const storeRoot = path.join(root, 'not', 'yet', 'created');
  return { store: new FileStore(storeRoot, { fsync: false }), damage: damageFile(storeRoot), cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('FileStore', () => {
  let root: string;
  let store: FileStore;
  let body: Buffer;
  const at = (key: string, variant = 'small', format: StoreEntryAddress['format'] = 'webp'): StoreEntryAddress => ({ key, variant, format });

  beforeAll(async () => {
    body = await makeImage('webp', 50, 40);
  });
  beforeEach(async () => {
    root = await tempDir();
    store = new FileStore(root);
  });
  afterEach(async () => {
    await chmod(root, 0o755).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  describe('constructor', () => {
    it('resolves root to an absolute path and does not touch the disk', async () => {
      const relative = path.join(path.relative(process.cwd(), root), 'later');
      const lazy = new FileStore(relative);
      expect(lazy.root).toBe(path.join(root, 'later'));
      expect(path.isAbsolute(lazy.root)).toBe(true);
      expect(await readdir(root)).toEqual([]);
      expect(await lazy.get(at('a'))).toBeUndefined();
      expect(await listed(lazy.list())).toEqual([]);
      expect(await readdir(root)).toEqual([]);
    });

    it.each([[''], [undefined], [42], ['a\0b']])('refuses root %j with RETHUMB_CONFIG', (bad) => {
      expect(() => new FileStore(bad as string)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
    });

    it.each([[null], ['yes'], [{ fsync: 'no' }], [{ fsync: 1 }]])('refuses options %j with RETHUMB_CONFIG', (bad) => {
      expect(() => new FileStore(root, bad as never)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
    });
  });

  it('lays entries out exactly as <root>/<key>/<variant>.<ext>, with a dot-prefixed degraded marker', async () => {
    await store.put(at('users/42', 'small', 'webp'), { body, degraded: false });
    await store.put(at('users/42', 'large', 'jpeg'), { body, degraded: true });
    await store.put(at('users/42', 'x', 'png'), { body, degraded: false });
    await store.put(at('users/42', 'y', 'avif'), { body, degraded: false });
    await store.put(at('ab/0123456789abcdef0123456789abcd', 'small', 'webp'), { body, degraded: false });
    expect(await tree(root)).toEqual(
      [
        'ab/',
        'ab/0123456789abcdef0123456789abcd/',
        'ab/0123456789abcdef0123456789abcd/small.webp',
        'users/',
        'users/42/',
        'users/42/.large.jpg.degraded',
        'users/42/large.jpg',
        'users/42/small.webp',
        'users/42/x.png',
        'users/42/y.avif',
      ].sort(),
    );
    expect((await readFile(path.join(root, 'users/42/small.webp'))).equals(body)).toBe(true);
    expect((await stat(path.join(root, 'users/42/.large.jpg.degraded'))).size).toBe(0);

    await store.put(at('users/42', 'large', 'jpeg'), { body, degraded: false });
    expect(await readdir(path.join(root, 'users/42'))).not.toContain('.large.jpg.degraded');
    await store.delete(at('users/42', 'large', 'jpeg'));
    expect((await readdir(path.join(root, 'users/42'))).sort()).toEqual(['small.webp', 'x.png', 'y.avif']);
  });

  it('reads files laid out by hand, including a marker, so the layout is the contract', async () => {
    await mkdir(path.join(root, 'hand/made'), { recursive: true });
    await writeFile(path.join(root, 'hand/made/small.webp'), body);
    await writeFile(path.join(root, 'hand/made/.small.webp.degraded'), '');
    expect(await store.get(at('hand/made'))).toEqual({ body, degraded: true });
    expect(await listed(store.list())).toEqual([`hand/made|small|webp|true|${body.length}`]);
  });

  it('leaves no temp file after many puts, overwrites and deletes', async () => {
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 60; i++) writes.push(store.put(at(`k/${i % 7}`, i % 2 ? 'small' : 'large'), { body, degraded: i % 3 === 0 }));
    await Promise.all(writes);
    await store.delete(at('k/0', 'small'));
    const names = await tree(root);
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    expect(names.filter((n) => !n.endsWith('/') && !path.basename(n).startsWith('.'))).toHaveLength(13);
  });

  it('list skips temp files, markers, hidden directories, unknown extensions and files at the root', async () => {
    await store.put(at('k'), { body, degraded: true });
    const dir = path.join(root, 'k');
    await writeFile(path.join(dir, '.small.webp.0123456789abcdef.tmp'), body.subarray(0, 10));
    await writeFile(path.join(dir, 'notes.txt'), 'x');
    await writeFile(path.join(dir, 'small.gif'), 'x');
    await writeFile(path.join(dir, 'no-extension'), 'x');
    await writeFile(path.join(dir, 'bad.name.webp'), 'x');
    await writeFile(path.join(root, 'small.webp'), body);
    await mkdir(path.join(root, '.trash/k'), { recursive: true });
    await writeFile(path.join(root, '.trash/k/small.webp'), body);
    await symlink(dir, path.join(root, 'link'));
    expect(await listed(store.list())).toEqual([`k|small|webp|true|${body.length}`]);
  });

  it('get, head and delete treat a path component that is a file as absent', async () => {
    await writeFile(path.join(root, 'blocker'), 'I am a file');
    expect(await store.get(at('blocker/x'))).toBeUndefined();
    expect(await store.head(at('blocker/x'))).toBeUndefined();
    await expect(store.delete(at('blocker/x'))).resolves.toBeUndefined();
    expect(await listed(store.list('blocker/'))).toEqual([]);
  });

  it('a put under a key whose directory is a file rejects with RETHUMB_STORE and leaves nothing', async () => {
    await writeFile(path.join(root, 'blocker'), 'I am a file');
    const error = await store.put(at('blocker/x'), { body, degraded: false }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe(ErrorCodes.STORE);
    expect((error as StoreError).cause).toMatchObject({ code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/) });
    expect(await tree(root)).toEqual(['blocker']);
  });

  it('a put that fails at the rename removes its temp file and rejects with RETHUMB_STORE', async () => {
    // A directory where the image should go: the temp file is written, then rename() fails.
    await mkdir(path.join(root, 'k/small.webp/inner'), { recursive: true });
    expect(await rejectionCode(store.put(at('k'), { body, degraded: false }))).toBe(ErrorCodes.STORE);
    expect(await rejectionCode(store.put(at('k'), { body, degraded: true }))).toBe(ErrorCodes.STORE);
    const names = await readdir(path.join(root, 'k'));
    expect(names.filter((n) => n.endsWith('.tmp'))).toEqual([]);
    // A directory where the image would be is not an entry.
    expect(await store.get(at('k'))).toBeUndefined();
    expect(await store.head(at('k'))).toBeUndefined();
  });

  it.skipIf(process.getuid?.() === 0)('a put into a read-only key directory rejects with RETHUMB_STORE and leaves no temp file', async () => {
    await store.put(at('ro'), { body, degraded: false });
    await chmod(path.join(root, 'ro'), 0o555);
    try {
      expect(await rejectionCode(store.put(at('ro', 'large'), { body, degraded: false }))).toBe(ErrorCodes.STORE);
      expect(await readdir(path.join(root, 'ro'))).toEqual(['small.webp']);
    } finally {
      await chmod(path.join(root, 'ro'), 0o755);
    }
  });

  it('keys cannot escape the root: invalid keys are refused and nothing is written beside it', async () => {
    const parent = await tempDir();
    try {
      const inner = new FileStore(path.join(parent, 'root'));
      for (const key of ['../escape', 'a/../../escape', '/tmp/escape', '..', 'C:escape', 'a\\..\\..\\escape', '.', 'a/.']) {
        expect(await rejectionCode(inner.put(at(key), { body, degraded: false })), key).toBe(ErrorCodes.INVALID_KEY);
        expect(await rejectionCode(inner.delete(at(key))), key).toBe(ErrorCodes.INVALID_KEY);
      }
      for (const key of ['a..', 'a..b/c', '%2e%2e/%2e%2e', '~', 'ab:c/x', 'x/C:', 'é/ü']) {
        await inner.put(at(key), { body, degraded: false });
        expect((await inner.get(at(key)))?.body.equals(body)).toBe(true);
      }
      expect(await readdir(parent)).toEqual(['root']);
      const files = (await tree(path.join(parent, 'root'))).filter((n) => !n.endsWith('/'));
      expect(files.sort()).toEqual(
        ['%2e%2e/%2e%2e/small.webp', 'a../small.webp', 'a..b/c/small.webp', '~/small.webp', 'ab:c/x/small.webp', 'x/C:/small.webp', 'é/ü/small.webp'].sort(),
      );
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('does not follow a symlinked directory out of the root when listing', async () => {
    const outside = await tempDir();
    try {
      const foreign = new FileStore(outside);
      await foreign.put(at('secret'), { body, degraded: false });
      await symlink(outside, path.join(root, 'elsewhere'));
      expect(await listed(store.list())).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('lists a store of many keys by prefix without entering unrelated directories', async () => {
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 300; i++) writes.push(store.put(at(`users/${i}`), { body, degraded: false }));
    await Promise.all(writes);
    // Shares the characters `users` but not the segment: in `users`, not in `users/`.
    await mkdir(path.join(root, 'users-archive/x'), { recursive: true });
    await writeFile(path.join(root, 'users-archive/x/small.webp'), body);
    const keys = (await listed(store.list('users/4'))).map((r) => r.split('|')[0]).sort();
    expect(keys).toEqual(['users/4', ...Array.from({ length: 10 }, (_, i) => `users/4${i}`)].sort());
    expect(await listed(store.list('users/'))).toHaveLength(300);
    expect(await listed(store.list('users'))).toHaveLength(301);
  });

  it('stops early without error when the consumer breaks out of list', async () => {
    for (const key of ['a/1', 'a/2', 'a/3']) await store.put(at(key), { body, degraded: false });
    let count = 0;
    for await (const _ of store.list()) {
      count++;
      break;
    }
    expect(count).toBe(1);
    // The walk's directory handles were closed by the break; a fresh walk sees everything.
    expect(await listed(store.list())).toHaveLength(3);
  });
});
