/**
 * JPEG: a segment walk from SOI through EOI. Marker segments are skipped by their lengths;
 * after each SOS the entropy-coded data is scanned for the next marker (0xFF followed by
 * anything but a stuffed 0x00 or a restart marker), so a zeroed or cut-short scan is caught
 * by the missing EOI. The seal is an APP15 segment right after SOI, identified by `rethumb\0`.
 */
import { damaged, type SealLocation, type StructureResult } from './image-damage.js';
import { SEAL_PAYLOAD_BYTES } from './seal-payload.js';

const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
const APP15 = 0xef;
const SEAL_ID = Buffer.from('rethumb\0', 'latin1');
/** Segment length field: itself (2), the identifier, the payload. */
const SEAL_LENGTH = 2 + SEAL_ID.length + SEAL_PAYLOAD_BYTES;

/** Start-of-frame markers (C0–CF but DHT C4, JPG C8, DAC CC), which carry the image size. */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Markers that stand alone, without a length: TEM and the restart markers. */
function isStandalone(marker: number): boolean {
  return marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
}

export function jpegStructure(body: Uint8Array): StructureResult {
  const length = body.length;
  if (length < 4 || body[0] !== 0xff || body[1] !== SOI) return damaged('format', 'no JPEG SOI marker');
  let pos = 2;
  let frame = false;
  let scans = 0;
  let seal: SealLocation | undefined;
  for (;;) {
    if (pos >= length) return damaged('truncated', `ends at ${length} before EOI`);
    if (body[pos] !== 0xff) return damaged('structure', `expected a marker at ${pos}`);
    const at = pos;
    // Any number of 0xFF fill bytes may precede a marker.
    while (pos < length && body[pos] === 0xff) pos += 1;
    if (pos >= length) return damaged('truncated', `ends at ${length} inside a marker`);
    const marker = body[pos++]!;
    if (marker === EOI) {
      if (scans === 0) return damaged('structure', `EOI at ${at} before any scan`);
      return { ok: true, seal, end: pos };
    }
    if (marker === 0x00 || marker === SOI) return damaged('structure', `invalid marker 0x${marker.toString(16)} at ${at}`);
    if (isStandalone(marker)) continue;
    if (pos + 2 > length) return damaged('truncated', `ends at ${length} inside the segment at ${at}`);
    const segment = (body[pos]! << 8) | body[pos + 1]!;
    if (segment < 2) return damaged('structure', `segment length ${segment} at ${at}`);
    const end = pos + segment;
    if (end > length) return damaged('truncated', `segment at ${at} runs past the end (${end} > ${length})`);
    if (isSof(marker)) {
      const components = segment >= 8 ? body[pos + 7]! : 0;
      if (segment < 8 || segment !== 8 + 3 * components || components === 0) return damaged('structure', `malformed frame header at ${at}`);
      if (frame) return damaged('structure', `second frame header at ${at}`);
      frame = true;
    } else if (marker === APP15 && segment === SEAL_LENGTH && Buffer.from(body.buffer, body.byteOffset + pos + 2, SEAL_ID.length).equals(SEAL_ID)) {
      if (seal) return damaged('structure', `second seal at ${at}`);
      seal = { start: at, end, payload: pos + 2 + SEAL_ID.length };
    }
    if (marker === SOS) {
      const components = segment >= 3 ? body[pos + 2]! : 0;
      pos = end;
      if (!frame) return damaged('structure', `scan at ${at} before any frame header`);
      if (segment !== 6 + 2 * components || components === 0) return damaged('structure', `malformed scan header at ${at}`);
      scans += 1;
      const next = nextMarker(body, pos);
      if (next < 0) return damaged('truncated', `entropy-coded data from ${pos} never reaches a marker (no EOI)`);
      pos = next;
    } else {
      pos = end;
    }
  }
}

/** Offset of the 0xFF that starts the first marker at or after `from` in entropy-coded data, or -1. */
function nextMarker(body: Uint8Array, from: number): number {
  let pos = from;
  for (;;) {
    const ff = body.indexOf(0xff, pos);
    if (ff < 0 || ff + 1 >= body.length) return -1;
    const next = body[ff + 1]!;
    // 0xFF00 is a stuffed 0xFF; RSTn belong to the scan; 0xFFFF is fill before a marker.
    if (next === 0x00 || (next >= 0xd0 && next <= 0xd7)) {
      pos = ff + 2;
      continue;
    }
    return ff;
  }
}

/** `body` (a JPEG with no seal, as an encoder wrote it) with an empty seal segment right after SOI. */
export function insertJpegSeal(body: Buffer, payload: Buffer): { file: Buffer; seal: SealLocation } {
  const segment = Buffer.alloc(4 + SEAL_ID.length);
  segment[0] = 0xff;
  segment[1] = APP15;
  segment.writeUInt16BE(SEAL_LENGTH, 2);
  SEAL_ID.copy(segment, 4);
  const file = Buffer.concat([body.subarray(0, 2), segment, payload, body.subarray(2)]);
  return { file, seal: { start: 2, end: 2 + segment.length + payload.length, payload: 2 + segment.length } };
}
