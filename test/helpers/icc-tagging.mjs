// Tag images with an ICC profile WITHOUT converting their pixels, which sharp cannot do for a
// 16-bit image (asked to tag, it converts, and through Display P3). Plain JS so that
// test/fixtures/images/make-fixtures.mjs can use it as well as the tests.
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';

/**
 * `png` with an `iCCP` chunk holding `icc` inserted after IHDR: the same pixels, now tagged.
 * @param {Buffer} png @param {Buffer} icc @param {string} name the profile's name in the chunk
 * @returns {Buffer}
 */
export function tagPng(png, icc, name) {
  const body = Buffer.concat([Buffer.from(`${name}\0\0`, 'latin1'), deflateSync(icc)]);
  const chunk = Buffer.alloc(12 + body.length);
  chunk.writeUInt32BE(body.length, 0);
  chunk.write('iCCP', 4, 'latin1');
  body.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + body.length)), 8 + body.length);
  // Signature (8) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC).
  const ihdrEnd = 8 + 25;
  return Buffer.concat([png.subarray(0, ihdrEnd), chunk, png.subarray(ihdrEnd)]);
}

/**
 * The bytes of a libvips built-in profile (`srgb`, `p3`), as libvips embeds it.
 * @param {string} name
 * @returns {Promise<Buffer>}
 */
export async function builtinProfile(name) {
  const tagged = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).withIccProfile(name).png().toBuffer();
  const { icc } = await sharp(tagged).metadata();
  if (!icc) throw new Error(`libvips wrote no ${name} profile`);
  return icc;
}
