/**
 * The contract every `Store` implementation passes. Call `describeStoreContract()` from an
 * implementation's test file with a factory that makes a fresh, empty store, and a way to damage
 * an entry behind the store's back (for the integrity half, `store-integrity-contract.ts`).
 */
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCodes, isRethumbError } from '../../src/errors.js';
import type { Store, StoreEntryAddress, StoreListing } from '../../src/storage/store.js';
import { makeImage } from '../helpers/images.js';
import { describeIntegrityContract } from './store-integrity-contract.js';

export interface StoreUnderTest {
  store: Store;
  /**
   * Replace the bytes of an existing entry behind the store's back, as a failing disk or a
   * bucket's bit rot would (its degraded flag stays as it was).
   */
  damage(address: StoreEntryAddress, bytes: Buffer): Promise<void>;
  cleanup(): Promise<void>;
}

/** Every listing of `iterable`, as `key|variant|format|degraded|size`, sorted. */
export async function listed(iterable: AsyncIterable<StoreListing>): Promise<string[]> {
  const rows: string[] = [];
  for await (const l of iterable) rows.push(`${l.key}|${l.variant}|${l.format}|${l.degraded}|${l.size}`);
  return rows.sort();
}

/** The code a promise rejects with (fails the test when it resolves or rejects with a non-rethumb error). */
export async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (isRethumbError(error)) return error.code;
    throw new Error(`expected a rethumb error, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a rejection, but it resolved');
}

const INVALID_KEYS = ['', '/abs', '../x', 'a/../../x', 'a//b', 'a/', 'a\\b', 'a\0b', 'C:x', '.hidden', 'a/./b', 'a/..', 'x'.repeat(1025)];
const INVALID_PREFIXES = ['/abs', '../', '..', 'a//', '.x', 'a\\b', 'a\0'];

export function describeStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>): void {
  describeIntegrityContract(name, makeStore);
  describe(`Store contract: ${name}`, () => {
    let subject: StoreUnderTest;
    let store: Store;
    let small: Buffer;
    let large: Buffer;
    let other: Buffer;

    beforeAll(async () => {
      // Real encoded images, so a store that rewrites or truncates bytes is caught by equality.
      [small, large, other] = await Promise.all([
        makeImage('webp', 40, 30),
        makeImage('png', 300, 200, { noise: true }),
        makeImage('jpeg', 64, 64, { noise: true }),
      ]);
    });
    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    const at = (key: string, variant = 'small', format: StoreEntryAddress['format'] = 'webp'): StoreEntryAddress => ({ key, variant, format });

    it('get and head of an absent entry resolve undefined', async () => {
      expect(await store.get(at('nothing/here'))).toBeUndefined();
      expect(await store.head(at('nothing/here'))).toBeUndefined();
    });

    it('put then get returns equal bytes, not degraded', async () => {
      await store.put(at('users/42'), { body: small, degraded: false });
      const got = await store.get(at('users/42'));
      expect(got?.degraded).toBe(false);
      expect(got?.body.equals(small)).toBe(true);
      expect(await store.get(at('users/42', 'large', 'png'))).toBeUndefined();
      await store.put(at('users/42', 'large', 'png'), { body: large, degraded: false });
      expect((await store.get(at('users/42', 'large', 'png')))?.body.equals(large)).toBe(true);
    });

    it('stores a copy: mutating the caller’s buffer or a returned buffer does not change the entry', async () => {
      const mine = Buffer.from(small);
      await store.put(at('k'), { body: mine, degraded: false });
      mine.fill(0);
      const first = await store.get(at('k'));
      expect(first?.body.equals(small)).toBe(true);
      first?.body.fill(0);
      expect((await store.get(at('k')))?.body.equals(small)).toBe(true);
    });

    it('overwrites an entry', async () => {
      await store.put(at('k'), { body: small, degraded: false });
      await store.put(at('k'), { body: other, degraded: false });
      expect((await store.get(at('k')))?.body.equals(other)).toBe(true);
      expect(await listed(store.list())).toEqual([`k|small|webp|false|${other.length}`]);
    });

    it('keeps variants and formats of one key apart', async () => {
      await store.put(at('k', 'small', 'webp'), { body: small, degraded: false });
      await store.put(at('k', 'small', 'jpeg'), { body: other, degraded: true });
      await store.put(at('k', 'large', 'png'), { body: large, degraded: false });
      expect((await store.get(at('k', 'small', 'webp')))?.body.equals(small)).toBe(true);
      expect(await store.get(at('k', 'small', 'jpeg'))).toEqual({ body: other, degraded: true });
      expect((await store.get(at('k', 'large', 'png')))?.body.equals(large)).toBe(true);
      expect(await store.get(at('k', 'large', 'webp'))).toBeUndefined();
    });

    it('round-trips the degraded flag, and a real put clears it', async () => {
      await store.put(at('d'), { body: small, degraded: true });
      expect((await store.get(at('d')))?.degraded).toBe(true);
      expect(await store.head(at('d'))).toEqual({ degraded: true, size: small.length });
      expect(await listed(store.list())).toEqual([`d|small|webp|true|${small.length}`]);

      await store.put(at('d'), { body: other, degraded: false });
      expect(await store.get(at('d'))).toEqual({ body: other, degraded: false });
      expect(await store.head(at('d'))).toEqual({ degraded: false, size: other.length });
      expect(await listed(store.list())).toEqual([`d|small|webp|false|${other.length}`]);

      await store.put(at('d'), { body: small, degraded: true });
      expect(await store.head(at('d'))).toEqual({ degraded: true, size: small.length });
    });

    it('head reports size and degraded without the body', async () => {
      await store.put(at('h', 'large', 'png'), { body: large, degraded: false });
      const info = await store.head(at('h', 'large', 'png'));
      expect(info).toEqual({ degraded: false, size: large.length });
    });

    it('delete removes one entry, its flag with it, and resolves when absent', async () => {
      await store.put(at('x'), { body: small, degraded: true });
      await store.put(at('x', 'large', 'png'), { body: large, degraded: false });
      await store.delete(at('x'));
      expect(await store.get(at('x'))).toBeUndefined();
      expect(await store.head(at('x'))).toBeUndefined();
      expect((await store.get(at('x', 'large', 'png')))?.body.equals(large)).toBe(true);
      await expect(store.delete(at('x'))).resolves.toBeUndefined();
      await expect(store.delete(at('never/was'))).resolves.toBeUndefined();
      // A flag must not outlive its entry: a later real put reads as real.
      await store.put(at('x'), { body: other, degraded: false });
      expect((await store.get(at('x')))?.degraded).toBe(false);
      expect(await listed(store.list())).toEqual([`x|large|png|false|${large.length}`, `x|small|webp|false|${other.length}`]);
    });

    it('lists everything, and by key prefix with shared prefixes', async () => {
      const keys = ['a', 'a/b', 'a/bc', 'a/b/c', 'ab', 'b', 'abc/d'];
      for (const key of keys) await store.put(at(key), { body: small, degraded: key === 'a/bc' });
      await store.put(at('a/b', 'large', 'png'), { body: large, degraded: false });
      const row = (key: string, variant = 'small', format = 'webp', size = small.length) => `${key}|${variant}|${format}|${key === 'a/bc'}|${size}`;
      const largeRow = row('a/b', 'large', 'png', large.length);

      expect(await listed(store.list())).toEqual([...keys.map((k) => row(k)), largeRow].sort());
      expect(await listed(store.list(''))).toHaveLength(keys.length + 1);
      expect(await listed(store.list('a'))).toEqual([row('a'), row('a/b'), largeRow, row('a/bc'), row('a/b/c'), row('ab'), row('abc/d')].sort());
      expect(await listed(store.list('a/'))).toEqual([row('a/b'), largeRow, row('a/bc'), row('a/b/c')].sort());
      expect(await listed(store.list('a/b'))).toEqual([row('a/b'), largeRow, row('a/bc'), row('a/b/c')].sort());
      expect(await listed(store.list('a/b/'))).toEqual([row('a/b/c')]);
      expect(await listed(store.list('a/bc'))).toEqual([row('a/bc')]);
      expect(await listed(store.list('ab'))).toEqual([row('ab'), row('abc/d')].sort());
      expect(await listed(store.list('abc/'))).toEqual([row('abc/d')]);
      expect(await listed(store.list('b'))).toEqual([row('b')]);
      expect(await listed(store.list('z'))).toEqual([]);
      expect(await listed(store.list('a/b/c/d'))).toEqual([]);
    });

    it('round-trips Unicode and punctuation in keys, in get and in list', async () => {
      const keys = ['photos/日本/ü', 'emoji/😀', 'odd/a..b/x y/%2e%2e/ab:c'];
      for (const key of keys) await store.put(at(key), { body: small, degraded: false });
      for (const key of keys) expect((await store.get(at(key)))?.body.equals(small)).toBe(true);
      expect((await listed(store.list())).map((r) => r.split('|')[0])).toEqual([...keys].sort());
      expect((await listed(store.list('photos/日'))).map((r) => r.split('|')[0])).toEqual(['photos/日本/ü']);
    });

    it('rejects invalid keys, variants and formats with RETHUMB_INVALID_KEY on every method, writing nothing', async () => {
      const thumb = { body: small, degraded: false };
      for (const key of INVALID_KEYS) {
        expect(await rejectionCode(store.get(at(key))), key).toBe(ErrorCodes.INVALID_KEY);
        expect(await rejectionCode(store.head(at(key))), key).toBe(ErrorCodes.INVALID_KEY);
        expect(await rejectionCode(store.put(at(key), thumb)), key).toBe(ErrorCodes.INVALID_KEY);
        expect(await rejectionCode(store.delete(at(key))), key).toBe(ErrorCodes.INVALID_KEY);
      }
      for (const prefix of INVALID_PREFIXES) {
        expect(await rejectionCode(listed(store.list(prefix))), prefix).toBe(ErrorCodes.INVALID_KEY);
      }
      for (const variant of ['', '.small', '..', '../x', 'a/b', 'a.b']) {
        expect(await rejectionCode(store.put(at('k', variant), thumb)), variant).toBe(ErrorCodes.INVALID_KEY);
        expect(await rejectionCode(store.get(at('k', variant))), variant).toBe(ErrorCodes.INVALID_KEY);
      }
      expect(await rejectionCode(store.put(at('k', 'small', 'gif' as 'webp'), thumb))).toBe(ErrorCodes.INVALID_KEY);
      expect(await rejectionCode(store.head(at('k', 'small', 'jpg' as 'webp')))).toBe(ErrorCodes.INVALID_KEY);
      expect(await listed(store.list())).toEqual([]);
    });

    it('concurrent puts of one entry end with one whole value whose flag matches it', async () => {
      const bodies = await Promise.all(Array.from({ length: 8 }, (_, i) => makeImage('png', 120 + i * 10, 90, { noise: true })));
      await Promise.all(bodies.map((body, i) => store.put(at('race'), { body, degraded: i % 2 === 1 })));
      const got = await store.get(at('race'));
      const winner = bodies.findIndex((b) => got?.body.equals(b));
      expect(winner).toBeGreaterThanOrEqual(0);
      expect(got?.degraded).toBe(winner % 2 === 1);
      expect(await listed(store.list())).toEqual([`race|small|webp|${winner % 2 === 1}|${bodies[winner]?.length}`]);
    });

    it('rejects with RETHUMB_ABORTED on an aborted signal, and an aborted put writes nothing', async () => {
      await store.put(at('kept'), { body: small, degraded: false });
      const signal = AbortSignal.abort();
      expect(await rejectionCode(store.get(at('kept'), { signal }))).toBe(ErrorCodes.ABORTED);
      expect(await rejectionCode(store.head(at('kept'), { signal }))).toBe(ErrorCodes.ABORTED);
      expect(await rejectionCode(store.put(at('new'), { body: small, degraded: false }, { signal }))).toBe(ErrorCodes.ABORTED);
      expect(await rejectionCode(store.put(at('kept'), { body: other, degraded: true }, { signal }))).toBe(ErrorCodes.ABORTED);
      expect(await rejectionCode(store.delete(at('kept'), { signal }))).toBe(ErrorCodes.ABORTED);
      expect(await rejectionCode(listed(store.list('', { signal })))).toBe(ErrorCodes.ABORTED);
      expect(await store.get(at('new'))).toBeUndefined();
      expect(await store.get(at('kept'))).toEqual({ body: small, degraded: false });
    });

    it('stops a list when its signal aborts mid-way', async () => {
      for (const key of ['m/1', 'm/2', 'm/3', 'm/4']) await store.put(at(key), { body: small, degraded: false });
      const controller = new AbortController();
      const seen: string[] = [];
      const code = await rejectionCode(
        (async () => {
          for await (const entry of store.list('m/', { signal: controller.signal })) {
            seen.push(entry.key);
            controller.abort();
          }
        })(),
      );
      expect(code).toBe(ErrorCodes.ABORTED);
      expect(seen).toHaveLength(1);
    });
  });
}
