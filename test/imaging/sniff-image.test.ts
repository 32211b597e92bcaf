import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { sniffHead, sniffImage, type SniffOptions } from '../../src/imaging/sniff-image.js';
import type { SourceFormat } from '../../src/types.js';
import { makeImage, type FixtureFormat } from '../helpers/images.js';

const text = (s: string) => new TextEncoder().encode(s);
const off = { allowSvg: false };
const on = { allowSvg: true };

/** An ISO-BMFF `ftyp` box with the given brands, the way HEIF/AVIF files start. */
function ftyp(major: string, compatible: string[]): Uint8Array {
  const brands = [major, '\0\0\0\0', ...compatible].join('');
  const box = Buffer.alloc(8 + brands.length);
  box.writeUInt32BE(box.length, 0);
  box.write('ftyp', 4, 'latin1');
  box.write(brands, 8, 'latin1');
  return Buffer.concat([box, Buffer.alloc(64)]);
}

/** A minimal valid 1x1 24-bit BMP. */
function bmp(): Uint8Array {
  const b = Buffer.alloc(58);
  b.write('BM', 0, 'latin1');
  b.writeUInt32LE(58, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(1, 18);
  b.writeInt32LE(1, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(4, 34);
  return b;
}

/** Deterministic noise: the same bytes on every run, so the test cannot flake on a lucky signature. */
function noise(length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = 0x2545f491;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function refusal(head: Uint8Array, options: SniffOptions = off): Promise<{ code: string; detected?: string; format?: string }> {
  try {
    await sniffImage(head, options);
  } catch (error) {
    return error as { code: string; detected?: string; format?: string };
  }
  throw new Error('sniffImage accepted the bytes');
}

describe('sniffImage: accepted formats', () => {
  const cases: [FixtureFormat, SourceFormat][] = [
    ['jpeg', 'jpeg'],
    ['png', 'png'],
    ['webp', 'webp'],
    ['gif', 'gif'],
    ['avif', 'avif'],
    ['tiff', 'tiff'],
  ];
  it.each(cases)('%s', async (fixture, expected) => {
    const body = await makeImage(fixture, 32, 24);
    expect(await sniffImage(body, off)).toBe(expected);
  });

  it('only needs the first 4100 bytes of a large image', async () => {
    const body = await makeImage('jpeg', 600, 400, { noise: true });
    expect(body.length).toBeGreaterThan(4100);
    expect(await sniffImage(body.subarray(0, 4100), off)).toBe('jpeg');
  });

  it('reads HEIC and HEIF brands as heif', async () => {
    expect(await sniffImage(ftyp('heic', ['mif1', 'heic']), off)).toBe('heif');
    expect(await sniffImage(ftyp('mif1', ['mif1', 'heic']), off)).toBe('heif');
  });

  it('reads an AVIF behind a mif1 major brand as avif', async () => {
    expect(await sniffImage(ftyp('mif1', ['mif1', 'avif', 'miaf']), off)).toBe('avif');
  });

  it('ignores the Content-Type header', async () => {
    const body = await makeImage('png', 8, 8);
    expect(await sniffImage(body, { ...off, contentType: 'text/html' })).toBe('png');
    const html = await refusal(text('<!doctype html><html><body>404</body></html>'));
    const htmlClaimingJpeg = await refusal(text('<!doctype html><html><body>404</body></html>'), { ...off, contentType: 'image/jpeg' });
    expect(htmlClaimingJpeg).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: html.detected });
  });
});

describe('sniffImage: refusals', () => {
  it('empty', async () => {
    expect(await refusal(new Uint8Array(0))).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'empty' });
  });

  it('an HTML error page', async () => {
    const page = '<!DOCTYPE html>\n<html lang="en"><head><title>Not Found</title></head><body><h1>404</h1></body></html>';
    expect(await refusal(text(page))).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'text/html' });
  });

  it('HTML without a doctype, and HTML with an inline <svg>, are HTML', async () => {
    expect(await refusal(text('  <html>\r\n<head><title>502</title></head></html>'))).toMatchObject({ detected: 'text/html' });
    const inline = '<!doctype html><html><body><svg xmlns="http://www.w3.org/2000/svg"></svg></body></html>';
    expect(await refusal(text(inline), on)).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'text/html' });
  });

  it('plain text and JSON', async () => {
    expect(await refusal(text('Service temporarily unavailable\n'))).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'text' });
    expect(await refusal(text('{"error":"not found","status":404}'))).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'text' });
  });

  it('text that begins like a BMP signature is still text', async () => {
    expect(await refusal(text('BM is a bitmap signature, but this is prose.'))).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'text' });
  });

  it('text cut in the middle of a multi-byte character is still text', async () => {
    const bytes = text('Fehler: Datei nicht gefunden — 404 ü');
    expect(await refusal(bytes.subarray(0, bytes.length - 1))).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'text' });
  });

  it('random bytes', async () => {
    expect(await refusal(noise(4100))).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'unknown' });
  });

  it('a PDF, binary or plain ASCII', async () => {
    const binary = Buffer.concat([Buffer.from('%PDF-1.7\n%'), Buffer.from([0xe2, 0xe3, 0xcf, 0xd3]), Buffer.from('\n1 0 obj\n<<>>\nendobj\n')]);
    expect(await refusal(binary)).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'application/pdf' });
    expect(await refusal(text('%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n'))).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'application/pdf' });
  });

  it('XML that is not SVG', async () => {
    expect(await refusal(text('<?xml version="1.0"?><rss version="2.0"></rss>'), on)).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'application/xml' });
  });

  it('a zip archive is not an image', async () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0]), Buffer.alloc(40)]);
    expect(await refusal(zip)).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE });
  });

  it('image formats we do not decode: BMP, PSD, ICO, JPEG XL', async () => {
    expect(await refusal(bmp())).toMatchObject({ code: ErrorCodes.UNSUPPORTED_FORMAT, format: 'bmp' });
    const psd = Buffer.concat([Buffer.from('8BPS'), Buffer.from([0, 1]), Buffer.alloc(30)]);
    expect(await refusal(psd)).toMatchObject({ code: ErrorCodes.UNSUPPORTED_FORMAT, format: 'psd' });
    const ico = Buffer.from([0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0, 0, 0, 0, 0, 22, 0, 0, 0]);
    expect(await refusal(ico)).toMatchObject({ code: ErrorCodes.UNSUPPORTED_FORMAT, format: 'ico' });
    const jxl = Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.alloc(30)]);
    expect(await refusal(jxl)).toMatchObject({ code: ErrorCodes.UNSUPPORTED_FORMAT, format: 'jxl' });
  });
});

describe('sniffImage: SVG', () => {
  const withScript = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>';

  it('is refused by default, naming allowSvg', async () => {
    expect(await refusal(text(withScript))).toMatchObject({ code: ErrorCodes.UNSUPPORTED_FORMAT, format: 'svg' });
  });

  it('is accepted with allowSvg', async () => {
    expect(await sniffImage(text(withScript), on)).toBe('svg');
  });

  it('is recognised behind a BOM, an XML prolog, comments and a doctype', async () => {
    const svg =
      '\uFEFF<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n' +
      '<!-- Generator: Adobe Illustrator 27.0 -->\n' +
      '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n' +
      '<?xml-stylesheet href="a.css"?>\n' +
      '<svg version="1.1" xmlns="http://www.w3.org/2000/svg"><rect width="1" height="1"/></svg>';
    expect(await sniffImage(text(svg), on)).toBe('svg');
    expect(await refusal(text(svg))).toMatchObject({ code: ErrorCodes.UNSUPPORTED_FORMAT, format: 'svg' });
  });

  it('refuses a DOCTYPE internal subset (entity expansion) even with allowSvg', async () => {
    const lol = '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><svg xmlns="http://www.w3.org/2000/svg">&b;</svg>';
    expect(await refusal(text(lol), on)).toMatchObject({ code: ErrorCodes.UNSUPPORTED_FORMAT, format: 'svg' });
  });

  it('does not take a document that merely mentions <svg> for an SVG', async () => {
    expect(await refusal(text('Use an <svg> element for icons.'), on)).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'text' });
    expect(await refusal(text('<svgfoo/>'), on)).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE });
    // An unterminated comment hides whatever follows.
    expect(await refusal(text('<!-- <svg xmlns="http://www.w3.org/2000/svg"/>'), on)).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE });
  });
});

describe('sniffHead: the early look at a download', () => {
  const tiff = readFileSync(new URL('../fixtures/images/ifd-after-pixels.tif', import.meta.url));

  it('defers a TIFF whose directory lies past the head; sniffImage reads it from the whole body', async () => {
    expect(tiff.readUInt32LE(4)).toBeGreaterThan(4100);
    expect(await sniffHead(tiff.subarray(0, 4100), off)).toBeUndefined();
    expect(await sniffImage(tiff, off)).toBe('tiff');
    // The head alone, taken for a whole body, is no image: the directory is missing.
    expect(await refusal(tiff.subarray(0, 4100))).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'unknown' });
  });

  it('defers a big-endian TIFF the same way; a BigTIFF is told by its header alone', async () => {
    const head = (magic: number[]): Buffer => Buffer.concat([Buffer.from(magic), Buffer.from([0x00, 0x01, 0x00, 0x00]), Buffer.from(noise(4092))]);
    expect(await sniffHead(head([0x4d, 0x4d, 0x00, 0x2a]), off)).toBeUndefined();
    expect(await sniffHead(head([0x49, 0x49, 0x2b, 0x00]), off)).toBe('tiff');
  });

  it('decides at once what the head proves', async () => {
    const jpeg = await makeImage('jpeg', 600, 400, { noise: true });
    expect(await sniffHead(jpeg.subarray(0, 4100), off)).toBe('jpeg');
    await expect(sniffHead(text('<!DOCTYPE html><html><body>Not Found</body></html>'), off)).rejects.toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'text/html' });
    await expect(sniffHead(noise(4100), off)).rejects.toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'unknown' });
    await expect(sniffHead(bmp(), off)).rejects.toMatchObject({ code: ErrorCodes.UNSUPPORTED_FORMAT, format: 'bmp' });
  });

  it('tells the other formats from their head even when large metadata comes first', async () => {
    const photo = (): ReturnType<typeof sharp> => sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } });
    const xmp = `<x:xmpmeta xmlns:x="adobe:ns:meta/">${'A'.repeat(60_000)}</x:xmpmeta>`;
    // A 100 KB text chunk between IHDR and the pixels.
    const png = await photo().png().toBuffer();
    const body = Buffer.concat([Buffer.from('Comment\0'), Buffer.alloc(100_000, 0x41)]);
    const chunk = Buffer.alloc(12 + body.length);
    chunk.writeUInt32BE(body.length, 0);
    chunk.write('tEXt', 4, 'latin1');
    body.copy(chunk, 8);
    chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + body.length)), 8 + body.length);
    const bigPng = Buffer.concat([png.subarray(0, 33), chunk, png.subarray(33)]);
    // Two 60 KB comment segments right after the JPEG's SOI, before any frame header.
    const jpeg = await photo().jpeg().toBuffer();
    const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0xea, 0x62]), Buffer.alloc(0xea60, 0x20)]);
    const bigJpeg = Buffer.concat([jpeg.subarray(0, 2), comment, comment, jpeg.subarray(2)]);
    expect(await sharp(bigJpeg).metadata()).toMatchObject({ format: 'jpeg', width: 64 });
    const cases: [Buffer, string][] = [
      [bigPng, 'png'],
      [bigJpeg, 'jpeg'],
      [await photo().withXmp(xmp).webp().toBuffer(), 'webp'],
      [await photo().withXmp(xmp).withIccProfile('p3').avif({ effort: 0 }).toBuffer(), 'avif'],
    ];
    for (const [image, format] of cases) {
      expect(image.length).toBeGreaterThan(50_000);
      expect(await sniffHead(image.subarray(0, 4100), off)).toBe(format);
    }
  });

  it('defers an SVG whose prolog (a long licence comment) outruns the head', async () => {
    const svg = text(`<?xml version="1.0"?>\n<!-- ${'Licensed under the terms below. '.repeat(200)} -->\n<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"/>`);
    expect(svg.length).toBeGreaterThan(4100);
    expect(await sniffHead(svg.subarray(0, 4100), on)).toBeUndefined();
    expect(await sniffImage(svg, on)).toBe('svg');
    expect(await refusal(svg)).toMatchObject({ code: ErrorCodes.UNSUPPORTED_FORMAT, format: 'svg' });
    // The same prolog in front of an HTML page: refused as HTML once the page is in.
    const page = text(`<!-- ${'x'.repeat(5000)} -->\n<!doctype html><html><body>404</body></html>`);
    expect(await sniffHead(page.subarray(0, 4100), on)).toBeUndefined();
    expect(await refusal(page, on)).toMatchObject({ code: ErrorCodes.NOT_AN_IMAGE, detected: 'text/html' });
  });
});
