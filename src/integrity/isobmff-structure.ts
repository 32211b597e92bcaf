/**
 * AVIF/HEIF (ISO-BMFF): every top-level box's size, which must tile the file exactly (padding
 * after the last box cannot be told apart from a seal box wiped by a zeroed tail), with
 * `ftyp` first and `meta` and `mdat` present; the boxes inside `meta` (and its `iprp`/`ipco`)
 * are walked the same way. Coded image data has no structure to check: the seal's checksum
 * covers it.
 *
 * The seal is a top-level `uuid` box (ISO/IEC 14496-12's form for private boxes, skipped by
 * readers) appended at the end of the file: item locations (`iloc`) are absolute file offsets,
 * so nothing may be inserted before `mdat`.
 */
import { damaged, type SealLocation, type StructureResult } from './image-damage.js';
import { SEAL_PAYLOAD_BYTES } from './seal-payload.js';

/** The seal box's user type (a fixed random UUID). */
const SEAL_UUID = Buffer.from('7a0c5e3bd1e94c2f8b6a72657468756d', 'hex');
const SEAL_BOX_BYTES = 8 + SEAL_UUID.length + SEAL_PAYLOAD_BYTES;
/** Boxes whose payload is a list of boxes, after `skip` bytes (a FullBox's version and flags). */
const CONTAINERS: Readonly<Record<string, number>> = { meta: 4, iprp: 0, ipco: 0, dinf: 0 };

interface Box {
  type: string;
  start: number;
  /** First byte of the payload. */
  body: number;
  end: number;
}

export function isobmffStructure(body: Uint8Array): StructureResult {
  const length = body.length;
  if (length < 12 || fourCC(body, 4) !== 'ftyp') return damaged('format', 'no ftyp box');
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const top = walkBoxes(body, view, 0, length);
  if (!Array.isArray(top)) return top;
  const types = new Set(top.map((b) => b.type));
  if (!types.has('meta') || !types.has('mdat')) return damaged('structure', 'no meta or mdat box');
  let seal: SealLocation | undefined;
  for (const box of top) {
    if (box.type === 'uuid' && box.end - box.start === SEAL_BOX_BYTES && Buffer.from(body.buffer, body.byteOffset + box.body, SEAL_UUID.length).equals(SEAL_UUID)) {
      if (seal) return damaged('structure', `second seal at ${box.start}`);
      seal = { start: box.start, end: box.end, payload: box.body + SEAL_UUID.length };
    }
  }
  const meta = top.find((b) => b.type === 'meta')!;
  const nested = walkNested(body, view, meta);
  if (nested) return nested;
  // Boxes tile the whole file: bytes after the last box cannot be told from a wiped seal box.
  return { ok: true, seal, end: length };
}

/** Walks the boxes inside `box` and inside its container children; the first problem, or undefined. */
function walkNested(body: Uint8Array, view: DataView, box: Box): StructureResult | undefined {
  const skip = CONTAINERS[box.type];
  if (skip === undefined) return undefined;
  const children = walkBoxes(body, view, box.body + skip, box.end);
  if (!Array.isArray(children)) return children;
  for (const child of children) {
    const problem = walkNested(body, view, child);
    if (problem) return problem;
  }
  return undefined;
}

/** The boxes that exactly tile `[from, to)`, or the first problem. */
function walkBoxes(body: Uint8Array, view: DataView, from: number, to: number): Box[] | StructureResult {
  const boxes: Box[] = [];
  let pos = from;
  while (pos < to) {
    if (pos + 8 > to) return damaged('truncated', `box header at ${pos} runs past ${to}`);
    const type = fourCC(body, pos + 4);
    if (!/^[\x20-\x7e]{4}$/.test(type)) return damaged('structure', `invalid box type at ${pos}`);
    let size = view.getUint32(pos);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > to) return damaged('truncated', `large box header at ${pos} runs past ${to}`);
      const large = view.getBigUint64(pos + 8);
      size = large > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(large);
      header = 16;
    } else if (size === 0) {
      // "Extends to the end of the enclosing space": only the last box can.
      size = to - pos;
    }
    if (size < header) return damaged('structure', `box ${type} at ${pos} declares ${size} bytes`);
    const end = pos + size;
    if (end > to) return damaged('truncated', `box ${type} at ${pos} runs past the end (${end} > ${to})`);
    boxes.push({ type, start: pos, body: pos + header, end });
    pos = end;
  }
  return boxes;
}

function fourCC(body: Uint8Array, at: number): string {
  return String.fromCharCode(body[at]!, body[at + 1]!, body[at + 2]!, body[at + 3]!);
}

/** `body` (an AVIF with no seal) with an empty seal box appended at the end. */
export function insertIsobmffSeal(body: Buffer, payload: Buffer): { file: Buffer; seal: SealLocation } {
  const boxes = walkBoxes(body, new DataView(body.buffer, body.byteOffset, body.byteLength), 0, body.length);
  if (!Array.isArray(boxes)) throw new Error(`Cannot seal an ISO-BMFF file: ${boxes.ok ? 'no boxes' : boxes.damage.detail}`);
  const prefix = Buffer.from(body);
  // A last box of size 0 ("to the end of the file") would swallow the seal: give it its size.
  const last = boxes.at(-1);
  if (last && prefix.readUInt32BE(last.start) === 0) {
    if (last.end - last.start > 0xffffffff) throw new Error('Cannot seal an ISO-BMFF file whose last box exceeds 4 GiB');
    prefix.writeUInt32BE(last.end - last.start, last.start);
  }
  const header = Buffer.alloc(8);
  header.writeUInt32BE(SEAL_BOX_BYTES, 0);
  header.write('uuid', 4, 'latin1');
  const file = Buffer.concat([prefix, header, SEAL_UUID, payload]);
  return { file, seal: { start: body.length, end: file.length, payload: body.length + 8 + SEAL_UUID.length } };
}
