/**
 * Which codec a HEIF file's images use, read from its item info box. libvips reports a HEIF's
 * `compression` from its brand, so an AV1-coded image under a plain `mif1` brand reads as
 * `hevc` although libheif decodes it; the items themselves say what they are.
 */

/** A box's type and the byte range of its payload (after the header). */
interface Box {
  type: string;
  start: number;
  end: number;
}

/**
 * `av1` when the coded image items are AV1 (`av01`), `hevc` when they are HEVC (`hvc1`,
 * `hev1`), `undefined` when the `meta`/`iinf` boxes cannot be read or hold both or neither.
 */
export function heifCodec(bytes: Uint8Array): 'av1' | 'hevc' | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // `meta` and `iinf` are full boxes: 1 byte version and 3 bytes flags before their children.
  const meta = children(view, 0, bytes.length).find((box) => box.type === 'meta');
  const iinf = meta && children(view, meta.start + 4, meta.end).find((box) => box.type === 'iinf');
  if (!iinf || iinf.start + 4 > iinf.end) return undefined;
  const countBytes = view.getUint8(iinf.start) === 0 ? 2 : 4;
  const types = new Set<string>();
  for (const infe of children(view, iinf.start + 4 + countBytes, iinf.end)) {
    if (infe.type !== 'infe') continue;
    const version = view.getUint8(infe.start);
    // Versions 2 and 3 carry an item type: after item_ID (2 or 4 bytes) and protection index (2).
    const at = infe.start + 4 + (version === 3 ? 4 : 2) + 2;
    if (version >= 2 && at + 4 <= infe.end) types.add(fourcc(view, at));
  }
  const av1 = types.has('av01');
  const hevc = types.has('hvc1') || types.has('hev1');
  if (av1 === hevc) return undefined;
  return av1 ? 'av1' : 'hevc';
}

/** The boxes laid end to end in [start, end); stops at the first malformed one. */
function children(view: DataView, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) break;
      size = Number(view.getBigUint64(at + 8));
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) break;
    boxes.push({ type: fourcc(view, at + 4), start: at + header, end: at + size });
    at += size;
  }
  return boxes;
}

function fourcc(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}
