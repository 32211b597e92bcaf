/**
 * Colour maths for fidelity tests, written here rather than borrowed from libvips/lcms so that a
 * reference computed with it is independent of the code under test: matrix/TRC ICC profiles
 * (RGB and Gray, the kind every camera, phone and editor embeds: sRGB, Display P3, Adobe RGB,
 * Gray gamma) parsed from their bytes, pixels taken to CIE XYZ (D50) and CIELAB, and clipped
 * to sRGB the way a relative-colorimetric transform of a matrix/TRC profile does.
 */
import type { Lab } from './ciede2000.js';

/** A parsed matrix/TRC profile: encoded channel (0–1) → linear → XYZ (D50 PCS). */
export interface MatrixProfile {
  kind: 'rgb' | 'gray';
  /** One curve per channel (one for gray): encoded value → linear light. */
  curves: readonly Curve[];
  /** RGB → XYZ, row-major 3×3 (columns are the colorants rXYZ, gXYZ, bXYZ); for gray, unused. */
  matrix: readonly number[];
}

type Curve = (x: number) => number;

/** The D50 white of the ICC profile connection space. */
export const D50: readonly [number, number, number] = [0.9642, 1, 0.8249];

/**
 * Parse an ICC profile's matrix/TRC tags, or `undefined` when it has none (LUT-based profiles,
 * CMYK, named colour …).
 */
export function parseMatrixProfile(icc: Uint8Array): MatrixProfile | undefined {
  const view = new DataView(icc.buffer, icc.byteOffset, icc.byteLength);
  const space = ascii(icc, 16, 4);
  const tags = new Map<string, Uint8Array>();
  const count = view.getUint32(128);
  for (let i = 0; i < count; i++) {
    const at = 132 + i * 12;
    const offset = view.getUint32(at + 4);
    tags.set(ascii(icc, at, 4), icc.subarray(offset, offset + view.getUint32(at + 8)));
  }
  if (space === 'GRAY') {
    const k = tags.get('kTRC');
    return k ? { kind: 'gray', curves: [curve(k)], matrix: [] } : undefined;
  }
  const parts = ['rXYZ', 'gXYZ', 'bXYZ', 'rTRC', 'gTRC', 'bTRC'].map((name) => tags.get(name));
  if (space !== 'RGB ' || parts.some((tag) => tag === undefined)) return undefined;
  const [r, g, b, rt, gt, bt] = parts as Uint8Array[];
  const [rx, gx, bx] = [xyz(r!), xyz(g!), xyz(b!)];
  return {
    kind: 'rgb',
    curves: [curve(rt!), curve(gt!), curve(bt!)],
    matrix: [rx[0], gx[0], bx[0], rx[1], gx[1], bx[1], rx[2], gx[2], bx[2]],
  };
}

function ascii(bytes: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(at, at + length));
}

function s15(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getInt32(at) / 65536;
}

function xyz(tag: Uint8Array): [number, number, number] {
  if (ascii(tag, 0, 4) !== 'XYZ ') throw new Error(`not an XYZ tag: ${ascii(tag, 0, 4)}`);
  return [s15(tag, 8), s15(tag, 12), s15(tag, 16)];
}

/** A `curv` (identity, gamma or sampled table) or `para` (ICC parametric types 0–4) curve. */
function curve(tag: Uint8Array): Curve {
  const view = new DataView(tag.buffer, tag.byteOffset, tag.byteLength);
  const type = ascii(tag, 0, 4);
  if (type === 'curv') {
    const n = view.getUint32(8);
    if (n === 0) return (x) => x;
    if (n === 1) {
      const gamma = view.getUint16(12) / 256;
      return (x) => Math.max(0, x) ** gamma;
    }
    const table = Array.from({ length: n }, (_, i) => view.getUint16(12 + i * 2) / 65535);
    return (x) => {
      const p = Math.min(1, Math.max(0, x)) * (n - 1);
      const i = Math.min(n - 2, Math.floor(p));
      return (table[i] ?? 0) + ((table[i + 1] ?? 0) - (table[i] ?? 0)) * (p - i);
    };
  }
  if (type === 'para') {
    const fn = view.getUint16(8);
    const p = Array.from({ length: [1, 3, 4, 5, 7][fn] ?? 0 }, (_, i) => s15(tag, 12 + i * 4));
    const [g = 1, a = 1, b = 0, c = 0, d = 0, e = 0, f = 0] = p;
    switch (fn) {
      case 0:
        return (x) => Math.max(0, x) ** g;
      case 1:
        return (x) => (x >= -b / a ? Math.max(0, a * x + b) ** g : 0);
      case 2:
        return (x) => (x >= -b / a ? Math.max(0, a * x + b) ** g + c : c);
      case 3:
        return (x) => (x >= d ? Math.max(0, a * x + b) ** g : c * x);
      case 4:
        return (x) => (x >= d ? Math.max(0, a * x + b) ** g + e : c * x + f);
    }
  }
  throw new Error(`unsupported curve type ${type}`);
}

/** Inverse of a monotonic curve on 0–1, by bisection (exact enough for 16-bit work). */
function invert(fn: Curve): Curve {
  return (y) => {
    if (y <= fn(0)) return 0;
    if (y >= fn(1)) return 1;
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 30; i++) {
      const mid = (lo + hi) / 2;
      if (fn(mid) < y) lo = mid;
      else hi = mid;
    }
    return (lo + hi) / 2;
  };
}

function inverse3(m: readonly number[]): number[] {
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0, i = 0] = m;
  const A = e * i - f * h;
  const B = -(d * i - f * g);
  const C = d * h - e * g;
  const det = a * A + b * B + c * C;
  return [A / det, -(b * i - c * h) / det, (b * f - c * e) / det, B / det, (a * i - c * g) / det, -(a * f - c * d) / det, C / det, -(a * h - b * g) / det, (a * e - b * d) / det];
}

/**
 * Conversions to and from sRGB as described by `srgb` (the profile libvips writes for `srgb`,
 * which is also what rethumb's untagged outputs mean).
 */
export class ColourSpace {
  readonly #srgb: MatrixProfile;
  readonly #toLinearSrgb: number[];
  readonly #decode: Curve[];
  readonly #encode: Curve[];

  constructor(srgb: MatrixProfile) {
    if (srgb.kind !== 'rgb') throw new Error('sRGB must be an RGB profile');
    this.#srgb = srgb;
    this.#toLinearSrgb = inverse3(srgb.matrix);
    // 4096-step tables keep powers and the bisection out of the per-pixel path.
    this.#decode = srgb.curves.map((c) => table(c));
    this.#encode = srgb.curves.map((c) => table(invert(c)));
  }

  /**
   * Encoded values in `profile` (3 channels, or 1 for gray) → sRGB-encoded values clipped to
   * 0–1: linearise, to XYZ, to linear sRGB, clip (as lcms does for matrix/TRC relative
   * colorimetric), encode.
   */
  toSrgb(values: readonly number[], profile: MatrixProfile): [number, number, number] {
    let X: number;
    let Y: number;
    let Z: number;
    if (profile.kind === 'gray') {
      // Gray profiles map to the PCS along the D50 neutral axis.
      const y = profile.curves[0]!(values[0] ?? 0);
      [X, Y, Z] = [D50[0] * y, D50[1] * y, D50[2] * y];
    } else {
      const lin = [0, 1, 2].map((k) => profile.curves[k]!(values[k] ?? 0));
      [X, Y, Z] = mul(profile.matrix, lin);
    }
    const rgb = mul(this.#toLinearSrgb, [X, Y, Z]);
    return [0, 1, 2].map((k) => this.#encode[k]!(Math.min(1, Math.max(0, rgb[k] ?? 0)))) as [number, number, number];
  }

  /** sRGB-encoded values (0–1) → CIELAB (D50). */
  srgbToLab(r: number, g: number, b: number): Lab {
    const [X, Y, Z] = mul(this.#srgb.matrix, [this.#decode[0]!(r), this.#decode[1]!(g), this.#decode[2]!(b)]);
    const f = (t: number): number => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
    const [fx, fy, fz] = [f(X / D50[0]), f(Y / D50[1]), f(Z / D50[2])];
    return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
  }
}

function mul(m: readonly number[], v: readonly number[]): [number, number, number] {
  const [x = 0, y = 0, z = 0] = v;
  return [
    (m[0] ?? 0) * x + (m[1] ?? 0) * y + (m[2] ?? 0) * z,
    (m[3] ?? 0) * x + (m[4] ?? 0) * y + (m[5] ?? 0) * z,
    (m[6] ?? 0) * x + (m[7] ?? 0) * y + (m[8] ?? 0) * z,
  ];
}

/** `fn` sampled at 4097 points on 0–1 and interpolated linearly. */
function table(fn: Curve): Curve {
  const n = 4096;
  const samples = Float64Array.from({ length: n + 1 }, (_, i) => fn(i / n));
  return (x) => {
    const p = Math.min(1, Math.max(0, x)) * n;
    const i = Math.min(n - 1, Math.floor(p));
    return samples[i]! + (samples[i + 1]! - samples[i]!) * (p - i);
  };
}
