/**
 * The last fallback: an image of the variant's box, so a preview never errors and never shows
 * a broken-image icon. With the record's ThumbHash it is a blurred likeness of the image;
 * without one, a flat tint in the record's colour. Placeholders are cheap to render but asked
 * for in bursts when an origin is down, so they are cached and single-flighted.
 */
import { LRUCache } from 'lru-cache';
import sharp from 'sharp';
import { DEFAULTS, MAX_VARIANT_SIDE, type ResolvedVariant } from '../options.js';
import { FORMAT_CONTENT_TYPES, type Fit } from '../types.js';
import { encodeImage, type RenderTarget, type RenderedImage } from './encode-image.js';
import { readThumbHashHint, type ThumbHash, type ThumbHashParse } from './parse-thumbhash.js';

/** What a record may tell about the missing image. Values come from data, so any may be junk. */
export interface PlaceholderHints {
  /** The original's width, for the aspect ratio of a one-sided variant. */
  width?: number;
  /** The original's height, for the aspect ratio of a one-sided variant. */
  height?: number;
  /** `#rgb` or `#rrggbb`; anything else is ignored. */
  color?: string;
  /**
   * The image's ThumbHash, base64: the placeholder is drawn from it (its colour and aspect ratio
   * win over `color` and, when `width`/`height` are absent, shape a one-sided variant). An
   * invalid one is ignored (see `parseThumbHash`).
   */
  thumbhash?: string;
}

export interface PlaceholderRendererOptions extends RenderTarget {
  /** Colour when the hints carry no valid one (`#rgb` or `#rrggbb`, already validated). */
  defaultColor: string;
  /**
   * Placeholders kept in memory (one per box and colour, or per box, fit and ThumbHash).
   * @default 256 — a few variants times a few colours, with room to spare.
   */
  maxEntries?: number;
  /**
   * Bytes of encoded placeholders kept in memory.
   * @default 8_388_608 (8 MiB) — flat images compress to a few KB and ThumbHash ones to a few
   * KB more in webp (a 150-pixel one is ~1 KB, an 800-pixel png ~100 KB+); this stops a run of
   * large boxes, or of one record's hash each, from holding much memory.
   */
  maxBytes?: number;
}

const HEX_COLOR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
const WHITE = { r: 255, g: 255, b: 255, alpha: 1 };
const TRANSPARENT = { r: 0, g: 0, b: 0, alpha: 0 };
/** Hints beyond this are junk: no image header holds a side past 2³¹ − 1. */
const MAX_HINT_SIDE = 2 ** 31 - 1;

/**
 * The placeholder's size: the variant's box; when the variant fixes one side only, the other
 * side comes from the hints' aspect ratio, else from `hashRatio` (a ThumbHash's), else square
 * (clamped to `MAX_VARIANT_SIDE` and at least 1). Hints that are not positive finite numbers
 * below 2³¹ are ignored.
 */
export function placeholderBox(variant: ResolvedVariant, hints: PlaceholderHints, hashRatio?: number): { width: number; height: number } {
  const { width, height } = variant;
  if (width !== undefined && height !== undefined) return { width, height };
  const ratio = aspectRatio(hints) ?? hashRatio;
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
   * An image of `placeholderBox(variant, hints)`: with a valid `hints.thumbhash`, the hash's
   * image scaled smoothly to the box (`cover` and `fill` as the variant says, `contain`
   * letterboxed as real thumbnails are; `inside` and `outside` stretched to the box), its
   * transparency kept where the format has alpha and flattened on white for jpeg; otherwise a
   * flat image in `hints.color` if it is a valid `#rgb` or `#rrggbb`, else `defaultColor`.
   * Deterministic for equal inputs; cached in memory (bounded LRU). Invalid hints are ignored,
   * never thrown. `hash` is `hints.thumbhash` already parsed (a caller that reports why a hash
   * was ignored parses it once). The returned body is shared with the cache: do not mutate it.
   */
  render(variant: ResolvedVariant, hints: PlaceholderHints, hash: ThumbHashParse | undefined = readThumbHashHint(hints?.thumbhash)): Promise<RenderedImage> {
    const valid = hash?.ok ? hash.hash : undefined;
    const box = placeholderBox(variant, hints ?? {}, valid?.aspectRatio);
    const color = normalizeColor(hints?.color) ?? this.#defaultColor;
    if (valid) {
      const mode = hashFit(variant.fit);
      // sharp has no reason to refuse 32 raw pixels; if it ever does, the flat one still answers.
      return this.#cached(`${box.width}x${box.height}:${mode}:${valid.base64}`, () => this.#drawHash(box, mode, valid).catch(() => this.#draw(box, color)));
    }
    return this.#cached(`${box.width}x${box.height}${color}`, () => this.#draw(box, color));
  }

  /** The cached image of `key`, or one render of it shared by concurrent callers. */
  #cached(key: string, draw: () => Promise<RenderedImage>): Promise<RenderedImage> {
    const cached = this.#cache.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = draw()
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

  /** The ThumbHash's own image (≤ 32 px), scaled to the box with a smooth kernel, alpha as in real thumbnails. */
  #drawHash(box: { width: number; height: number }, mode: HashFit, hash: ThumbHash): Promise<RenderedImage> {
    const { width, height } = hash.image;
    // No useless alpha channel (png and avif would grow for nothing). Dropped here, not with
    // sharp's removeAlpha(): that runs after the resize and would turn `contain`'s transparent
    // bars opaque black.
    const channels = hash.hasAlpha ? 4 : 3;
    const pipeline = sharp(channels === 4 ? Buffer.from(hash.image.rgba) : rgbOf(hash.image.rgba), { raw: { width, height, channels } });
    const jpeg = this.#target.format === 'jpeg';
    // jpeg has no alpha; libvips would flatten on black, which reads as a broken image.
    if (hash.hasAlpha && jpeg) pipeline.flatten({ background: WHITE });
    // Enlarging ~25× from the hash's 32 pixels: Mitchell's cubic is smooth without the ringing
    // that lanczos3 (sharp's default) leaves around the hash's strongest gradients.
    pipeline.resize({
      width: box.width,
      height: box.height,
      fit: mode,
      position: 'centre',
      kernel: 'mitchell',
      ...(mode === 'contain' ? { background: jpeg ? WHITE : TRANSPARENT } : {}),
    });
    return encodeImage(pipeline, this.#target);
  }
}

/** The RGB of RGBA pixels. */
function rgbOf(rgba: Uint8Array): Buffer {
  const rgb = Buffer.alloc((rgba.length / 4) * 3);
  for (let i = 0, o = 0; i < rgba.length; i += 4, o += 3) {
    rgb[o] = rgba[i] as number;
    rgb[o + 1] = rgba[i + 1] as number;
    rgb[o + 2] = rgba[i + 2] as number;
  }
  return rgb;
}

/** How a hash placeholder fills the box: a placeholder is always the whole box. */
type HashFit = 'cover' | 'contain' | 'fill';

/**
 * `cover`, `contain` and `fill` draw as real thumbnails do. `inside` and `outside` would leave
 * the box partly empty (or overflow it), but a placeholder is the box: they stretch the whole
 * likeness over it (`fill`), so that sky stays on top and ground at the bottom, with the
 * image's mean colour. A `cover` crop of a tall image in a square box would show only its
 * middle. (With one side given the box has the image's aspect ratio and nothing stretches.)
 */
function hashFit(fit: Fit): HashFit {
  return fit === 'contain' || fit === 'cover' ? fit : 'fill';
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
