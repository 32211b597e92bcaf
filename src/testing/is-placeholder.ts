/** Predicates on thumbnails for users' test suites. */
import type { Thumbnail } from '../types.js';

/**
 * True when `thumb` is a generated placeholder: no source, stored copy or surviving variant
 * could serve it. Decided by `outcome`, never by the pixels: a placeholder drawn from a
 * record's ThumbHash looks like the image, and is a placeholder all the same.
 */
export function isPlaceholder(thumb: Pick<Thumbnail, 'outcome'>): boolean {
  return thumb.outcome === 'placeholder';
}

/** True when `thumb` is a stand-in a later rebuild replaces (`derived`, `placeholder`, or a degraded stored entry). */
export function isStandIn(thumb: Pick<Thumbnail, 'degraded'>): boolean {
  return thumb.degraded === true;
}
