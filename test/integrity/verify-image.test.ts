/**
 * verifyImage() and sealImage() on real encoders' files: every damage kind of issue 10 is caught
 * in a sealed file of every output format; files without a seal (written before seals existed,
 * or by other tools) still validate by structure; sealed files still decode.
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import type { DamageKind } from '../../src/integrity/image-damage.js';
import { sealImage } from '../../src/integrity/seal-image.js';
import { verifyImage } from '../../src/integrity/verify-image.js';
import type { OutputFormat } from '../../src/types.js';
import { damage, DAMAGE_NAMES, type DamageName } from '../helpers/damage.js';

const FORMATS: readonly OutputFormat[] = ['webp', 'jpeg', 'png', 'avif'];
const OTHER: Record<OutputFormat, OutputFormat> = { webp: 'png', jpeg: 'webp', png: 'avif', avif: 'jpeg' };

interface Sample {
  name: string;
  format: OutputFormat;
  body: Buffer;
}

/** Real encoder output of every kind rethumb or another tool may have stored. */
async function samples(): Promise<Sample[]> {
  const photo = () => sharp({ create: { width: 160, height: 120, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
  const translucent = () => sharp({ create: { width: 90, height: 70, channels: 4, background: { r: 20, g: 120, b: 200, alpha: 0.4 } } });
  const flat = () => sharp({ create: { width: 33, height: 17, channels: 3, background: '#e4e4e7' } });
  const encoded: Array<[string, OutputFormat, Promise<Buffer>]> = [
    ['baseline jpeg', 'jpeg', photo().jpeg({ quality: 80 }).toBuffer()],
    ['progressive jpeg', 'jpeg', photo().jpeg({ quality: 80, progressive: true }).toBuffer()],
    ['mozjpeg', 'jpeg', photo().jpeg({ mozjpeg: true }).toBuffer()],
    ['jpeg with restart markers', 'jpeg', photo().jpeg({ quality: 80, optimiseScans: true, progressive: true }).toBuffer()],
    ['flat jpeg', 'jpeg', flat().jpeg().toBuffer()],
    ['png', 'png', photo().png().toBuffer()],
    ['interlaced png', 'png', photo().png({ progressive: true }).toBuffer()],
    ['palette png', 'png', flat().png({ palette: true, colours: 2 }).toBuffer()],
    ['png with alpha', 'png', translucent().png().toBuffer()],
    ['lossy webp', 'webp', photo().webp({ quality: 80 }).toBuffer()],
    ['lossy webp with alpha', 'webp', translucent().webp({ quality: 80 }).toBuffer()],
    ['lossless webp', 'webp', photo().webp({ lossless: true }).toBuffer()],
    ['lossless webp with alpha', 'webp', translucent().webp({ lossless: true }).toBuffer()],
    ['avif', 'avif', photo().avif({ quality: 50, effort: 2 }).toBuffer()],
    ['avif with alpha', 'avif', translucent().avif({ quality: 50, effort: 2 }).toBuffer()],
  ];
  return Promise.all(encoded.map(async ([name, format, body]) => ({ name, format, body: await body })));
}

let all: Sample[];
beforeAll(async () => {
  all = await samples();
});

async function sizeOf(body: Buffer): Promise<{ width: number; height: number }> {
  const { info } = await sharp(body, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height };
}

describe('sealImage', () => {
  it('seals every kind of encoder output; the sealed file verifies, records its size and decodes to the same pixels', async () => {
    for (const { name, format, body } of all) {
      const size = await sizeOf(body);
      const sealed = sealImage(body, format, size);
      expect(sealed.length - body.length, name).toBeGreaterThan(20);
      expect(sealed.length - body.length, name).toBeLessThanOrEqual(40);
      expect(verifyImage(sealed, format), name).toEqual({ ok: true, sealed: true, size });
      // The seal is invisible to a decoder: same size, same channels, same pixels.
      const [before, after] = await Promise.all([body, sealed].map((b) => sharp(b, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true })));
      expect(after!.info, name).toEqual(before!.info);
      expect(after!.data.equals(before!.data), name).toBe(true);
      const meta = await sharp(sealed).metadata();
      expect([meta.format === 'heif' ? 'avif' : meta.format, meta.hasAlpha], name).toEqual([format, (await sharp(body).metadata()).hasAlpha]);
      // Sealing twice changes nothing.
      expect(sealImage(sealed, format, size).equals(sealed), name).toBe(true);
    }
  });

  it('refuses to seal bytes that are not a whole image (a seal must never vouch for junk)', async () => {
    const webp = all.find((s) => s.format === 'webp')!.body;
    expect(() => sealImage(webp.subarray(0, webp.length - 10), 'webp', { width: 1, height: 1 })).toThrow(/damaged/);
    expect(() => sealImage(webp, 'png', { width: 1, height: 1 })).toThrow(/damaged/);
  });
});

describe('verifyImage', () => {
  it('passes every intact file, sealed or not', () => {
    for (const { name, format, body } of all) expect(verifyImage(body, format), name).toEqual({ ok: true, sealed: false });
  });

  it.each(FORMATS)('catches every kind of damage to a sealed %s file', async (format) => {
    const other = sealImage(all.find((s) => s.format === OTHER[format])!.body, OTHER[format], { width: 1, height: 1 });
    for (const sample of all.filter((s) => s.format === format)) {
      const sealed = sealImage(sample.body, format, await sizeOf(sample.body));
      for (const name of DAMAGE_NAMES) {
        const verdict = verifyImage(damage(name, sealed, format, other), format);
        expect(verdict.ok, `${sample.name}, ${name}`).toBe(false);
        const kinds = expectedKinds(name, format);
        if (!verdict.ok && kinds) expect(kinds, `${sample.name}, ${name}`).toContain(verdict.damage.kind);
      }
    }
  });

  it.each(FORMATS)('catches the structural damage of an unsealed %s file (written before seals)', (format) => {
    const other = all.find((s) => s.format === OTHER[format])!.body;
    for (const sample of all.filter((s) => s.format === format)) {
      for (const name of DAMAGE_NAMES) {
        const verdict = verifyImage(damage(name, sample.body, format, other), format);
        // Inside compressed data only a checksum sees damage: PNG has one per chunk, the others
        // none (a zeroed tail of a WebP or AVIF may lie wholly in its coded data).
        const mayHide = (name === 'flipped byte' && format !== 'png') || (name === 'zeroed tail' && (format === 'webp' || format === 'avif'));
        if (!mayHide) expect(verdict.ok, `${sample.name}, ${name}`).toBe(false);
      }
    }
  });

  it('reports the kind of damage: empty, format, truncated, structure, checksum', async () => {
    const png = all.find((s) => s.name === 'png')!.body;
    const sealed = sealImage(png, 'png', await sizeOf(png));
    const badLength = Buffer.from(sealed);
    badLength.writeUInt32BE(0xffffffff, 8);
    const kinds: Array<[Buffer, DamageKind]> = [
      [Buffer.alloc(0), 'empty'],
      [Buffer.from('<html>not found</html>'), 'format'],
      [sealed.subarray(0, 500), 'truncated'],
      [badLength, 'structure'],
    ];
    for (const [body, kind] of kinds) expect(verifyImage(body, 'png')).toMatchObject({ ok: false, damage: { kind } });
    const unsealedFlip = Buffer.from(png);
    unsealedFlip[200] = unsealedFlip[200]! ^ 1;
    expect(verifyImage(unsealedFlip, 'png')).toMatchObject({ ok: false, damage: { kind: 'checksum', detail: expect.stringContaining('IDAT') } });
  });

  it('tolerates padding after the end of a JPEG, PNG or WebP (recovery tools leave it), never after AVIF boxes', async () => {
    const padding = Buffer.concat([Buffer.alloc(300), Buffer.from('trailing junk')]);
    for (const { name, format, body } of all) {
      const size = await sizeOf(body);
      const sealed = sealImage(body, format, size);
      const padded = Buffer.concat([sealed, padding]);
      if (format === 'avif') {
        // Boxes tile the file: a zeroed region after them looks exactly like a wiped seal box.
        expect(verifyImage(padded, format), name).toMatchObject({ ok: false, damage: { kind: 'structure' } });
        continue;
      }
      expect(verifyImage(padded, format), name).toEqual({ ok: true, sealed: true, size });
      expect(verifyImage(Buffer.concat([body, padding]), format), name).toEqual({ ok: true, sealed: false });
      // Sealing a padded file drops the padding.
      expect(sealImage(Buffer.concat([body, padding]), format, size).equals(sealed), name).toBe(true);
      // The padding decodes away too: it is the same image.
      expect(await sizeOf(padded), name).toEqual(size);
    }
  });

  it('treats a seal of an unknown (future) version as no seal, so the structure still decides', async () => {
    const jpeg = all.find((s) => s.name === 'baseline jpeg')!.body;
    const sealed = sealImage(jpeg, 'jpeg', await sizeOf(jpeg));
    // SOI (2), APP15 marker and length (4), `rethumb\0` (8): the version byte.
    const future = Buffer.from(sealed);
    future[14] = 2;
    expect(verifyImage(future, 'jpeg')).toEqual({ ok: true, sealed: false });
  });

  it('checks the chunk CRCs of a PNG whose seal has an unknown version: they are its whole structure check', async () => {
    const png = all.find((s) => s.name === 'png')!.body;
    const sealed = sealImage(png, 'png', await sizeOf(png));
    const seal = sealed.indexOf('rtCK', 0, 'latin1') + 4;
    const future = Buffer.from(sealed);
    future[seal] = 2;
    // The seal chunk's own CRC no longer matches its bytes: a flipped version byte is damage.
    expect(verifyImage(future, 'png')).toMatchObject({ ok: false, damage: { kind: 'checksum' } });
    // A seal a later release wrote (its chunk CRC written over it) leaves the other chunks' CRCs to decide.
    const later = Buffer.from(future);
    later.writeUInt32BE(crc32(later.subarray(seal - 4, seal + 13)), seal + 13);
    expect(verifyImage(later, 'png')).toEqual({ ok: true, sealed: false });
    const idat = later.indexOf('IDAT', 0, 'latin1');
    later.writeUInt8(later.readUInt8(idat + 40) ^ 0x10, idat + 40);
    expect(verifyImage(later, 'png')).toMatchObject({ ok: false, damage: { kind: 'checksum' } });
  });
});

/**
 * The kinds a damage may be reported as. The samples are random noise, so a flipped byte in a
 * JPEG's entropy-coded data is sometimes a 0x00 turned 0xFF: a marker where none may be, which
 * the structure walk sees before the checksum (about once in 256 runs per sample); when that
 * marker takes a segment length, the length may run past the end of the file: truncated.
 */
function expectedKinds(name: DamageName, format: OutputFormat): readonly DamageKind[] | undefined {
  if (name === 'flipped byte' && format === 'jpeg') return ['checksum', 'structure', 'truncated'];
  const kind = EXPECTED_KIND[name];
  return kind === undefined ? undefined : [kind];
}

/** Kinds every format reports alike; the rest depend on where the damage lands. */
const EXPECTED_KIND: Partial<Record<DamageName, DamageKind>> = {
  'zero length': 'empty',
  'zero-filled': 'format',
  'other format': 'format',
  'random bytes': 'format',
  'flipped byte': 'checksum',
};
