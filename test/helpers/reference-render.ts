/**
 * An independent reference thumbnail for fidelity tests. It shares sharp's resampler with the code
 * under test but nothing of its colour or orientation handling: the source is read with its ICC
 * profile ignored, at its own depth (16 bits stay 16 bits), oriented by explicit flips and
 * rotations from the EXIF tag, resized once from full size (no shrink-on-load), and only then
 * converted to sRGB by the matrix/TRC maths of `icc-colour.ts` from the embedded profile.
 * CMYK is the exception: its profiles are lookup tables, so libvips converts it (8-bit path).
 */
import sharp, { type FitEnum, type Sharp } from 'sharp';
import { ColourSpace, parseMatrixProfile, type MatrixProfile } from './icc-colour.js';

/** sRGB-encoded (0–1, clipped) colour and alpha (0–1) per pixel, unquantised. */
export interface ReferenceImage {
  width: number;
  height: number;
  /** 3 values per pixel. */
  rgb: Float32Array;
  /** 1 value per pixel. */
  alpha: Float32Array;
}

export interface Box {
  width: number;
  height: number;
  fit: keyof FitEnum;
}

/** What libvips writes for its built-in `srgb` profile: the meaning of every untagged source and output. */
export async function srgbColourSpace(): Promise<{ space: ColourSpace; srgb: MatrixProfile }> {
  const tagged = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).withIccProfile('srgb').png().toBuffer();
  const { icc } = await sharp(tagged).metadata();
  const srgb = icc && parseMatrixProfile(icc);
  if (!srgb) throw new Error('libvips sRGB profile is not matrix/TRC');
  return { space: new ColourSpace(srgb), srgb };
}

/** `body` as a reference thumbnail of `box` (rethumb's fit semantics, centred, transparent letterbox). */
export async function referenceRender(body: Buffer, box: Box, colour: { space: ColourSpace; srgb: MatrixProfile }): Promise<ReferenceImage> {
  const meta = await sharp(body).metadata();
  const cmyk = meta.space === 'cmyk';
  const grey = meta.space === 'b-w' || meta.space === 'grey16';
  const deep = meta.depth === 'ushort';
  let profile: MatrixProfile;
  if (cmyk) profile = colour.srgb;
  else if (meta.icc) {
    const parsed = parseMatrixProfile(meta.icc);
    if (!parsed) throw new Error('reference: the embedded profile is not matrix/TRC');
    profile = parsed;
  } else {
    // Untagged sources are sRGB; untagged grey is sRGB-encoded grey.
    profile = grey ? { kind: 'gray', curves: [colour.srgb.curves[0]!], matrix: [] } : colour.srgb;
  }

  const pipeline = orient(sharp(body, { ignoreIcc: !cmyk, limitInputPixels: false }), meta.orientation ?? 1);
  pipeline.resize({
    width: box.width,
    height: box.height,
    fit: box.fit,
    position: 'centre',
    background: { r: 0, g: 0, b: 0, alpha: 0 },
    // rethumb's `inside` and `outside` never enlarge; its other fits always fill the box.
    withoutEnlargement: box.fit === 'inside' || box.fit === 'outside',
    fastShrinkOnLoad: false,
  });
  // Keep the source's depth and values: no colour conversion, no 16 → 8 bit cast. (8-bit grey
  // goes to `srgb`, which only replicates the band: `b-w` would drop the letterbox's alpha.)
  if (cmyk) pipeline.toColourspace('srgb');
  else pipeline.toColourspace(deep ? (grey ? 'grey16' : 'rgb16') : 'srgb');
  const wide = deep && !cmyk;
  const { data, info } = await pipeline.raw({ depth: wide ? 'ushort' : 'uchar' }).toBuffer({ resolveWithObject: true });
  const samples = wide ? new Uint16Array(data.buffer, data.byteOffset, data.length / 2) : data;
  const max = wide ? 65535 : 255;
  const colourBands = info.channels <= 2 ? 1 : 3;
  const hasAlpha = info.channels === 2 || info.channels === 4;
  const pixels = info.width * info.height;
  const rgb = new Float32Array(pixels * 3);
  const alpha = new Float32Array(pixels);
  const values = [0, 0, 0];
  for (let p = 0; p < pixels; p++) {
    const at = p * info.channels;
    for (let k = 0; k < colourBands; k++) values[k] = (samples[at + k] ?? 0) / max;
    const out = colour.space.toSrgb(values, profile);
    rgb[p * 3] = out[0];
    rgb[p * 3 + 1] = out[1];
    rgb[p * 3 + 2] = out[2];
    alpha[p] = hasAlpha ? (samples[at + colourBands] ?? 0) / max : 1;
  }
  return { width: info.width, height: info.height, rgb, alpha };
}

/** The EXIF display transform, spelled out (sharp applies flip/flop before rotate, both before resize). */
function orient(pipeline: Sharp, orientation: number): Sharp {
  switch (orientation) {
    case 2:
      return pipeline.flop();
    case 3:
      return pipeline.rotate(180);
    case 4:
      return pipeline.flip();
    case 5:
      return pipeline.flip().rotate(90);
    case 6:
      return pipeline.rotate(90);
    case 7:
      return pipeline.flop().rotate(90);
    case 8:
      return pipeline.rotate(270);
    default:
      return pipeline;
  }
}
