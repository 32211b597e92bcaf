/**
 * The integrity half of the store contract (issue 10), run against every `Store` whose test
 * harness can damage an entry behind the store's back: every kind of damage × every output
 * format. For each damaged entry, `get()` serves an image that fully decodes to the variant's
 * box (regenerated, never the damaged bytes), the entry is healed afterwards, and
 * `scanManifest({ verify })` lists it first. The same damage to a backup store's entry: skipped,
 * the record regenerated from its source.
 *
 * Runtime: one loopback origin and one small source for the whole suite; each format's records
 * are seeded by ONE real regeneration whose stored bytes are copied to the other keys.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRegenerator, ErrorCodes, MemoryStore, scanManifest, type StoreErrorEvent, type ScanRecordResult } from '../../src/index.js';
import { verifyImage } from '../../src/integrity/verify-image.js';
import { startTestOrigin, type TestOrigin } from '../../src/testing/test-origin.js';
import type { Store, StoreEntryAddress } from '../../src/storage/store.js';
import type { OutputFormat } from '../../src/types.js';
import { damage, DAMAGE_NAMES } from '../helpers/damage.js';
import { decode, makeImage } from '../helpers/images.js';

export interface DamageableStore {
  store: Store;
  damage(address: StoreEntryAddress, bytes: Buffer): Promise<void>;
  cleanup(): Promise<void>;
}

const FORMATS: readonly OutputFormat[] = ['webp', 'jpeg', 'png', 'avif'];
/** A format whose bytes stand in for "another format's bytes". */
const OTHER: Record<OutputFormat, 'png' | 'jpeg' | 'webp' | 'avif'> = { webp: 'png', jpeg: 'webp', png: 'avif', avif: 'jpeg' };
const VARIANTS = { small: { width: 40, height: 40, fit: 'cover' }, large: { width: 96 } } as const;
/** The source is 120x90, so `large` (width 96, inside) is 96x72. */
const BOX = { small: { width: 40, height: 40 }, large: { width: 96, height: 72 } } as const;

export function describeIntegrityContract(name: string, makeStore: () => Promise<DamageableStore>): void {
  describe(`Store integrity contract: ${name}`, () => {
    let origin: TestOrigin;
    const others = new Map<OutputFormat, Buffer>();

    beforeAll(async () => {
      const source = await makeImage('jpeg', 120, 90, { noise: true });
      origin = await startTestOrigin({ routes: { '/src.jpg': { kind: 'image', body: source, contentType: 'image/jpeg' } } });
      for (const format of FORMATS) others.set(format, await makeImage(OTHER[format], 40, 40, { noise: true }));
    });
    afterAll(async () => {
      await origin?.close();
    });

    const recordOf = (key: string) => ({ key, url: origin.urlFor('/src.jpg') });
    const keys = DAMAGE_NAMES.map((_, i) => `damaged/${i}`);

    /** One real regeneration, its stored variants copied to every key: intact, sealed, real. */
    async function seed(store: Store, format: OutputFormat): Promise<void> {
      const seeder = createRegenerator({ store, variants: VARIANTS, format, allowHosts: [origin.host], memoryCacheBytes: 0 });
      try {
        expect((await seeder.get(recordOf(keys[0]!), 'small')).outcome).toBe('regenerated');
      } finally {
        await seeder.close();
      }
      for (const variant of ['small', 'large']) {
        const stored = await store.get({ key: keys[0]!, variant, format });
        expect(stored && verifyImage(stored.body, format)).toMatchObject({ ok: true, sealed: true });
        for (const key of keys.slice(1)) await store.put({ key, variant, format }, stored!);
      }
    }

    async function scanDamaged(store: Store, format: OutputFormat): Promise<ScanRecordResult[]> {
      const lines = keys.map((key) => `${JSON.stringify(recordOf(key))}\n`);
      const damaged: ScanRecordResult[] = [];
      const report = await scanManifest({ manifest: Readable.from(lines), store, variants: ['small', 'large'], format, verify: true, onRecord: (r) => void (r.status === 'damaged' && damaged.push(r)) });
      expect(report.total).toBe(keys.length);
      return damaged;
    }

    async function expectWhole(store: Store, format: OutputFormat, key: string, variant: 'small' | 'large', why: string): Promise<void> {
      const stored = await store.get({ key, variant, format });
      expect(stored, why).toBeDefined();
      expect(verifyImage(stored!.body, format), why).toMatchObject({ ok: true, sealed: true });
      expect(await decode(stored!.body), why).toEqual({ ...BOX[variant], format: format === 'avif' ? 'heif' : format });
    }

    it.each(FORMATS)('%s: every kind of damage is a miss, never served; get() regenerates and heals it; scan --verify lists it', async (format) => {
      const subject = await makeStore();
      const { store } = subject;
      try {
        await seed(store, format);
        for (const [i, kind] of DAMAGE_NAMES.entries()) {
          const at = { key: keys[i]!, variant: 'small', format };
          const intact = (await store.get(at))!.body;
          await subject.damage(at, damage(kind, intact, format, others.get(format)!));
        }

        // scan --verify finds exactly the damaged entries, and says what is wrong with each.
        const listed = await scanDamaged(store, format);
        expect(listed.map((r) => r.key)).toEqual(keys);
        for (const r of listed) expect(r.damaged.map((d) => d.variant)).toEqual(['small']);

        const regen = createRegenerator({ store, variants: VARIANTS, format, allowHosts: [origin.host], memoryCacheBytes: 0 });
        const events: StoreErrorEvent[] = [];
        regen.on('storeError', (e) => events.push(e));
        origin.resetCounts();
        try {
          for (const [i, kind] of DAMAGE_NAMES.entries()) {
            const why = `${format}, ${kind}`;
            const thumb = await regen.get(recordOf(keys[i]!), 'small');
            expect(thumb.outcome, why).toBe('regenerated');
            expect(await decode(thumb.body), why).toEqual({ ...BOX.small, format: format === 'avif' ? 'heif' : format });
            // Healed: the store now holds a whole, sealed thumbnail that a fresh read serves as stored.
            await expectWhole(store, format, keys[i]!, 'small', why);
            expect((await regen.get(recordOf(keys[i]!), 'small')).outcome, why).toBe('stored');
          }
          expect(origin.hits('/src.jpg')).toBe(keys.length);
          expect(events).toHaveLength(keys.length);
          for (const e of events) {
            expect(e).toMatchObject({ operation: 'get', variant: 'small', error: { code: ErrorCodes.STORE_CORRUPT } });
            expect(['empty', 'format', 'truncated', 'structure', 'checksum']).toContain(e.damage);
          }
          expect(regen.stats().corruptEntries).toBe(keys.length);
        } finally {
          await regen.close();
        }
        expect(await scanDamaged(store, format)).toEqual([]);
      } finally {
        await subject.cleanup();
      }
    });

    it.each(FORMATS)('%s: a damaged backup entry is skipped, and the record regenerated from its source', async (format) => {
      const subject = await makeStore();
      const backup = subject.store;
      try {
        await seed(backup, format);
        for (const [i, kind] of DAMAGE_NAMES.entries()) {
          const at = { key: keys[i]!, variant: 'small', format };
          await subject.damage(at, damage(kind, (await backup.get(at))!.body, format, others.get(format)!));
        }
        const primary = new MemoryStore();
        const regen = createRegenerator({ store: primary, backup: [backup], variants: VARIANTS, format, allowHosts: [origin.host], memoryCacheBytes: 0 });
        const events: StoreErrorEvent[] = [];
        regen.on('storeError', (e) => events.push(e));
        origin.resetCounts();
        try {
          for (const [i, kind] of DAMAGE_NAMES.entries()) {
            const why = `${format}, ${kind}`;
            const thumb = await regen.get(recordOf(keys[i]!), 'small');
            expect(thumb.outcome, why).toBe('regenerated');
            expect(await decode(thumb.body), why).toEqual({ ...BOX.small, format: format === 'avif' ? 'heif' : format });
            await expectWhole(primary, format, keys[i]!, 'small', why);
          }
          // Each record was fetched once; the damaged backup entries were reported, never copied nor touched.
          expect(origin.hits('/src.jpg')).toBe(keys.length);
          expect(events.map((e) => [e.backup, e.error instanceof Error && 'code' in e.error ? e.error.code : undefined])).toEqual(
            keys.map(() => [0, ErrorCodes.STORE_CORRUPT]),
          );
          expect((await scanDamaged(backup, format)).map((r) => r.key)).toEqual(keys);
        } finally {
          await regen.close();
        }
        // The intact `large` entries of the backup are still served, as mirror.
        const reader = createRegenerator({ store: new MemoryStore(), backup: [backup], variants: VARIANTS, format, allowHosts: [origin.host], memoryCacheBytes: 0 });
        try {
          expect((await reader.get(recordOf(keys[0]!), 'large')).outcome).toBe('mirror');
        } finally {
          await reader.close();
        }
      } finally {
        await subject.cleanup();
      }
    });

    it('serves an entry written before seals existed (a real encoder file without one) as stored, with no alarm', async () => {
      const subject = await makeStore();
      const { store } = subject;
      try {
        for (const format of FORMATS) {
          const legacy = await makeImage(format, 40, 40, { noise: true });
          expect(verifyImage(legacy, format)).toEqual({ ok: true, sealed: false });
          await store.put({ key: 'legacy', variant: 'small', format }, { body: legacy, degraded: false });
          const regen = createRegenerator({ store, variants: VARIANTS, format, allowHosts: [origin.host], memoryCacheBytes: 0 });
          try {
            const thumb = await regen.get(recordOf('legacy'), 'small');
            expect(thumb, format).toMatchObject({ outcome: 'stored', width: 40, height: 40 });
            expect(thumb.body.equals(legacy), format).toBe(true);
            expect(regen.stats().corruptEntries, format).toBe(0);
          } finally {
            await regen.close();
          }
        }
      } finally {
        await subject.cleanup();
      }
    });
  });
}
