/**
 * The size arithmetic of variants, kept pure so that the rules are stated (and tested) once:
 * how big each output is, and how big the one shared decode must be.
 */
import type { ResolvedVariant } from '../options.js';

export interface Size {
  width: number;
  height: number;
}

/**
 * The exact output size of `variant` for a source of `source` (oriented) dimensions.
 *
 * - `cover`, `contain`, `fill`: always the box, enlarging a small source, so a UI slot is
 *   always filled (`cover` crops, `contain` letterboxes, `fill` stretches).
 * - `inside`: the largest size within the box that keeps the aspect ratio; `outside`: the
 *   smallest size covering the box. Both never enlarge: a source smaller than needed keeps
 *   its own size. With one side given, both mean "that side, the other from the aspect ratio".
 *
 * The side that the scale came from is exact; the other is rounded half up, at least 1.
 */
export function variantSize(source: Size, variant: ResolvedVariant): Size {
  const { width, height } = variant;
  if (variant.fit !== 'inside' && variant.fit !== 'outside' && width !== undefined && height !== undefined) {
    return { width, height };
  }
  const byWidth = width === undefined ? undefined : width / source.width;
  const byHeight = height === undefined ? undefined : height / source.height;
  let fromWidth: boolean;
  if (byWidth === undefined) fromWidth = false;
  else if (byHeight === undefined) fromWidth = true;
  else fromWidth = variant.fit === 'outside' ? byWidth >= byHeight : byWidth <= byHeight;
  const scale = (fromWidth ? byWidth : byHeight) as number;
  if (scale >= 1) return { width: source.width, height: source.height };
  return fromWidth
    ? { width: width as number, height: Math.max(1, Math.round(source.height * scale)) }
    : { width: Math.max(1, Math.round(source.width * scale)), height: height as number };
}

/**
 * `size` scaled down, keeping its aspect ratio, until neither side exceeds `maxSide` (an output
 * format's limit); unchanged when it fits. The longer side becomes `maxSide` exactly; the other
 * is rounded half up, at least 1.
 */
export function fitWithin(size: Size, maxSide: number): Size {
  if (size.width <= maxSide && size.height <= maxSide) return size;
  return size.width >= size.height
    ? { width: maxSide, height: Math.max(1, Math.round((size.height * maxSide) / size.width)) }
    : { width: Math.max(1, Math.round((size.width * maxSide) / size.height)), height: maxSide };
}

/**
 * The scale from the source each variant needs so that its own resize is a reduction (or an
 * enlargement of the full-size source): `inside`/`contain` the smaller side ratio,
 * `cover`/`outside`/`fill` the larger (fill keeps the aspect here and stretches later).
 */
function neededScale(source: Size, variant: ResolvedVariant): number {
  const byWidth = variant.width === undefined ? undefined : variant.width / source.width;
  const byHeight = variant.height === undefined ? undefined : variant.height / source.height;
  if (byWidth === undefined) return byHeight as number;
  if (byHeight === undefined) return byWidth;
  return variant.fit === 'inside' || variant.fit === 'contain' ? Math.min(byWidth, byHeight) : Math.max(byWidth, byHeight);
}

/**
 * The size of the one decode every variant is derived from: the source scaled by the largest
 * scale any variant needs, capped at 1 so nothing is decoded larger than the source. Rounded
 * up so that every variant still reduces from it.
 */
export function intermediateSize(source: Size, variants: readonly ResolvedVariant[]): Size {
  let scale = 0;
  for (const variant of variants) scale = Math.max(scale, neededScale(source, variant));
  if (scale >= 1 || variants.length === 0) return { width: source.width, height: source.height };
  return { width: roundUp(source.width * scale, source.width), height: roundUp(source.height * scale, source.height) };
}

/** Ceil, forgiving float noise (4000 × (150 / 4000) is 150.00000000000003), within [1, max]. */
function roundUp(value: number, max: number): number {
  return Math.min(max, Math.max(1, Math.ceil(value - 1e-9)));
}
