/**
 * The last fallback: a flat image of the variant's box in the record's colour, so a preview
 * never errors and never shows a broken-image icon. Placeholders are cheap to render but
 * asked for in bursts when an origin is down, so they are cached and single-flighted.
 */
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import { DEFAULTS, MAX_VARIANT_SIDE, type ResolvedVariant } from '../options.js';
import { FORMAT_CONTENT_TYPES } from '../types.js';
import { encodeImage, type RenderTarget, type RenderedImage } from './encode-image.js';

/** What a record may tell about the missing image. Values come from data, so any may be junk. */
export interface PlaceholderHints {
  /** The original's width, for the aspect ratio of a one-sided variant. */
  width?: number;
  /** The original's height, for the aspect ratio of a one-sided variant. */
  height?: number;
  /** `#rgb` or `#rrggbb`; anything else is ignored. */
  color?: string;
}

export interface PlaceholderRendererOptions extends RenderTarget {
  /** Colour when the hints carry no valid one (`#rgb` or `#rrggbb`, already validated). */
  defaultColor: string;
  /**
   * Placeholders kept in memory (one per box and colour).
   * @default 256 — a few variants times a few colours, with room to spare.
   */
  maxEntries?: number;
  /**
   * Bytes of encoded placeholders kept in memory.
   * @default 8_388_608 (8 MiB) — flat images compress to a few KB; this only stops a run of
   * 8192-pixel boxes in jpeg from holding much memory.
   */
  maxBytes?: number;
}

const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
/** Hints beyond this are junk: no image header holds a side past 2³¹ − 1. */
const MAX_HINT_SIDE = 2 ** 31 - 1;

/**
 * The placeholder's size: the variant's box; when the variant fixes one side only, the other
 * side comes from the hints' aspect ratio (clamped to `MAX_VARIANT_SIDE` and at least 1), else
 * square. Hints that are not positive finite numbers below 2³¹ are ignored.
 */
export function placeholderBox(variant: ResolvedVariant, hints: PlaceholderHints): { width: number; height: number } {
  const { width, height } = variant;
  if (width !== undefined && height !== undefined) return { width, height };
  const ratio = aspectRatio(hints);
  if (width !== undefined) return { width, height: side(ratio === undefined ? width : width / ratio) };
  if (height !== undefined) return { width: side(ratio === undefined ? height : height * ratio), height };
  // resolveOptions() never lets a variant through without a side; stay total anyway.
  return { width: 1, height: 1 };
}

/** Renders placeholders in one output format, cached in memory. */
export class PlaceholderRenderer {
  readonly #target: RenderTarget;
  readonly #defaultColor: string;
  readonly #cache: LRUCache<string, RenderedImage>;
  /** Renders under way, so concurrent asks for one box share one render. */
  readonly #inflight = new Map<string, Promise<RenderedImage>>();

  constructor(options: PlaceholderRendererOptions) {
    this.#target = { format: options.format, quality: options.quality };
    this.#defaultColor = normalizeColor(options.defaultColor) ?? DEFAULTS.placeholderColor;
    this.#cache = new LRUCache<string, RenderedImage>({
      max: options.maxEntries ?? 256,
      maxSize: options.maxBytes ?? 8 * 1024 * 1024,
      sizeCalculation: (image) => Math.max(1, image.body.length),
    });
  }

  /**
   * A flat image of `placeholderBox(variant, hints)` in `hints.color` if it is a valid `#rgb`
   * or `#rrggbb`, else `defaultColor`. Deterministic for equal inputs; cached in memory
   * (bounded LRU). Invalid hints are ignored, never thrown. The returned body is shared with
   * the cache: do not mutate it.
   */
  render(variant: ResolvedVariant, hints: PlaceholderHints): Promise<RenderedImage> {
    const box = placeholderBox(variant, hints ?? {});
    const color = normalizeColor(hints?.color) ?? this.#defaultColor;
    const key = `${box.width}x${box.height}${color}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#draw(box, color)
        .then((image) => {
          this.#cache.set(key, image);
          return image;
        })
        .finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  async #draw(box: { width: number; height: number }, color: string): Promise<RenderedImage> {
    const pipeline = sharp({ create: { width: box.width, height: box.height, channels: 3, background: color } });
    if (this.#target.format !== 'png') return encodeImage(pipeline, this.#target);
    // One colour fits a 1-bit palette exactly: about 1 % of a truecolour png's bytes.
    const { data, info } = await pipeline.png({ palette: true, colours: 2 }).toBuffer({ resolveWithObject: true });
    return { body: data, width: info.width, height: info.height, format: 'png', contentType: FORMAT_CONTENT_TYPES.png };
  }
}

/** width / height from the hints, or `undefined` when either is unusable. */
function aspectRatio(hints: PlaceholderHints): number | undefined {
  const { width, height } = hints ?? {};
  if (!isSide(width) || !isSide(height)) return undefined;
  return width / height;
}

function isSide(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= MAX_HINT_SIDE;
}

function side(value: number): number {
  return Math.min(MAX_VARIANT_SIDE, Math.max(1, Math.round(value)));
}

/** `#rrggbb`, lower-case, or `undefined` for anything that is not `#rgb`/`#rrggbb`. */
function normalizeColor(value: unknown): string | undefined {
  if (typeof value !== 'string' || !HEX_COLOR.test(value)) return undefined;
  const hex = value.slice(1).toLowerCase();
  return `#${hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex}`;
}
