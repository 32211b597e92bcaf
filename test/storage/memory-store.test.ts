import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MemoryStore } from '../../src/storage/memory-store.js';
import { describeStoreContract, listed, rejectionCode } from './store-contract.js';

describeStoreContract('MemoryStore', async () => {
  const store = new MemoryStore();
  return {
    store,
    // Memory has no outside to damage it from: a put of damaged bytes leaves the same state.
    damage: async (address, bytes) => store.put(address, { body: bytes, degraded: (await store.head(address))?.degraded ?? false }),
    cleanup: async () => {},
  };
});

describe('MemoryStore', () => {
  const at = (key: string) => ({ key, variant: 'small', format: 'webp' as const });

  it('counts entries and bytes, through overwrites and deletes', async () => {
    const store = new MemoryStore();
    expect([store.size, store.bytes]).toEqual([0, 0]);
    await store.put(at('a'), { body: Buffer.alloc(100), degraded: false });
    await store.put(at('b'), { body: Buffer.alloc(50), degraded: true });
    expect([store.size, store.bytes]).toEqual([2, 150]);
    await store.put(at('a'), { body: Buffer.alloc(10), degraded: false });
    expect([store.size, store.bytes]).toEqual([2, 60]);
    await store.delete(at('b'));
    await store.delete(at('b'));
    expect([store.size, store.bytes]).toEqual([1, 10]);
  });

  it('rejects a put past maxBytes with RETHUMB_STORE and keeps what it held', async () => {
    const store = new MemoryStore({ maxBytes: 1000 });
    await store.put(at('a'), { body: Buffer.alloc(600, 1), degraded: false });
    expect(await rejectionCode(store.put(at('b'), { body: Buffer.alloc(401), degraded: false }))).toBe(ErrorCodes.STORE);
    expect(await store.get(at('b'))).toBeUndefined();
    // Replacing an entry counts only the difference.
    await store.put(at('a'), { body: Buffer.alloc(1000, 2), degraded: false });
    expect(store.bytes).toBe(1000);
    expect(await rejectionCode(store.put(at('a'), { body: Buffer.alloc(1001), degraded: false }))).toBe(ErrorCodes.STORE);
    expect((await store.get(at('a')))?.body.equals(Buffer.alloc(1000, 2))).toBe(true);
    expect(await listed(store.list())).toEqual(['a|small|webp|false|1000']);
  });

  it('refuses a body that is not a Buffer with RETHUMB_STORE', async () => {
    const store = new MemoryStore();
    expect(await rejectionCode(store.put(at('a'), { body: 'text' as unknown as Buffer, degraded: false }))).toBe(ErrorCodes.STORE);
    expect(store.size).toBe(0);
  });

  it.each([[0], [-1], [1.5], [Number.POSITIVE_INFINITY], [Number.NaN], ['1000']])('refuses maxBytes %j with RETHUMB_CONFIG', (maxBytes) => {
    expect(() => new MemoryStore({ maxBytes: maxBytes as number })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
  });
});
