/**
 * An HTTP request handler for `node:http` (and so Express, Fastify, Koa…) that serves
 * `/<variant>/<key>` from a regenerator: the record comes from the user's `resolve(key)`, the
 * image from `regen.get()`. Every answer is an image; nothing an origin does becomes a 5xx.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidKey } from '../../storage/store-key.js';
import type { Regenerator } from '../../regenerator/regenerator.js';
import { ConfigError, ErrorCodes, type ErrorCode } from '../../errors.js';
import type { ThumbRecord, Thumbnail } from '../../types.js';
import { etagOf, ifNoneMatch } from './etag.js';
import { parseThumbnailPath, type ThumbnailPath } from './parse-thumbnail-path.js';

/** The regenerator methods the handler uses (a structural type, so a wrapper or a fake fits). */
export type HandlerRegenerator = Pick<Regenerator, 'get' | 'placeholder' | 'variants'>;

export interface ThumbnailHandlerOptions {
  regenerator: HandlerRegenerator;
  /**
   * The record of `key` from the user's database, or `undefined` for an unknown key (a 404
   * with a placeholder body). `signal` aborts when the client goes away.
   * If it throws or rejects, the answer is a 500 with a placeholder body (`no-store`) and
   * `onError` is called: a database failure is the service's fault, never an origin's.
   */
  resolve(key: string, context: { variant: string; signal: AbortSignal }): ThumbRecord | undefined | Promise<ThumbRecord | undefined>;
  /**
   * Path prefix to strip before parsing, e.g. `/thumbs` when the handler sees whole URLs (plain
   * `node:http`, Fastify). Express's `app.use('/thumbs', handler)` strips it already.
   * @default ''
   */
  basePath?: string;
  /**
   * Maps the path (after `basePath`, without the query) to `{ variant, key }`, or `undefined`
   * when it names no thumbnail.
   * @default `/<variant>/<key…>`, segments percent-decoded.
   */
  parsePath?: (pathname: string) => ThumbnailPath | undefined;
  /**
   * Longest wait for a regeneration before a stand-in is served (the regeneration goes on and
   * lands in the store for the next request). Passed to `get()` as `deadlineMs`.
   * @default 2_000 — a browser shows nothing while an `<img>` waits; two seconds is the most a page should.
   */
  deadlineMs?: number;
  /**
   * `Cache-Control` of real thumbnails. The URL names a key and a variant whose bytes do not
   * change once real, so browsers and CDNs may keep them.
   * @default 'public, max-age=31536000, immutable'
   */
  cacheControl?: string;
  /**
   * `Cache-Control` of stand-ins (`derived`, `placeholder`, degraded store entries) and 404s:
   * short, so the real thumbnail replaces them as soon as it exists.
   * @default 'public, max-age=60' — long enough to absorb a burst during an outage, short enough to heal within a minute.
   */
  standInCacheControl?: string;
  /** Called with the handler's own failures (resolve() threw, get() rejected). @default process.emitWarning */
  onError?: (error: unknown, request: IncomingMessage) => void;
}

/** `(req, res, next?)`: mounts directly in `http.createServer()`, Express and Connect; Fastify via `reply.hijack()`. */
export type ThumbnailHandler = (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void) => Promise<void>;

const DEFAULT_CACHE_CONTROL = 'public, max-age=31536000, immutable';
const DEFAULT_STAND_IN_CACHE_CONTROL = 'public, max-age=60';

/** Create the request handler. Throws `ConfigError` for an invalid option. */
export function createThumbnailHandler(options: ThumbnailHandlerOptions): ThumbnailHandler {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object', options);
  const { regenerator: regen, resolve } = options;
  if (regen === null || typeof regen !== 'object' || typeof regen.get !== 'function') throw new ConfigError('regenerator', 'a regenerator', regen);
  if (typeof resolve !== 'function') throw new ConfigError('resolve', 'a function (key) => record | undefined', resolve);
  const basePath = options.basePath ?? '';
  if (typeof basePath !== 'string' || (basePath !== '' && (!basePath.startsWith('/') || basePath.endsWith('/')))) {
    throw new ConfigError('basePath', "'' or a path starting with `/` and not ending with `/`", basePath);
  }
  const deadlineMs = options.deadlineMs ?? 2_000;
  if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs) || deadlineMs < 0) throw new ConfigError('deadlineMs', 'a finite number of milliseconds ≥ 0', deadlineMs);
  const parsePath = options.parsePath ?? parseThumbnailPath;
  const realCache = options.cacheControl ?? DEFAULT_CACHE_CONTROL;
  const standInCache = options.standInCacheControl ?? DEFAULT_STAND_IN_CACHE_CONTROL;
  const onError =
    options.onError ?? ((error: unknown) => process.emitWarning(`rethumb/http: ${error instanceof Error ? error.stack ?? error.message : String(error)}`));
  const variants = new Set(regen.variants);
  // An answer without a record still gets an image of the variant's box, without touching the
  // store or the network; its reason says why there was no record.
  const placeholderFor = (variant: string, key: string, reason: ErrorCode): Promise<Thumbnail> => regen.placeholder(variant, { key, reason });

  return async function thumbnailHandler(request, response, next) {
    const method = request.method ?? 'GET';
    const target = pathOf(request.url ?? '/', basePath);
    const named = target === undefined ? undefined : parsePath(target);
    if (!named || !variants.has(named.variant)) {
      // Not ours: let a framework route it on; alone, a plain 404 (no variant means no box to fill).
      if (next) return next();
      return sendText(response, 404, 'Not Found');
    }
    if (method !== 'GET' && method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return sendText(response, 405, 'Method Not Allowed');
    }

    // The client going away aborts its wait (work shared with other requests goes on).
    const controller = new AbortController();
    const onClose = (): void => {
      if (!response.writableFinished) controller.abort();
    };
    response.on('close', onClose);
    try {
      const { variant, key } = named;
      if (!isValidKey(key)) {
        return send(request, response, 400, await placeholderFor(variant, '', ErrorCodes.INVALID_KEY), standInCache);
      }
      let record: ThumbRecord | undefined;
      try {
        record = await resolve(key, { variant, signal: controller.signal });
      } catch (error) {
        if (controller.signal.aborted) return;
        onError(error, request);
        return send(request, response, 500, await placeholderFor(variant, key, ErrorCodes.UNKNOWN_KEY), 'no-store');
      }
      if (controller.signal.aborted) return;
      if (record === undefined || record === null) {
        return send(request, response, 404, await placeholderFor(variant, key, ErrorCodes.UNKNOWN_KEY), standInCache);
      }
      // The URL names the key: serve that key whatever the record says, so one URL is one entry.
      const thumb = await regen.get({ ...record, key }, variant, { deadlineMs, signal: controller.signal });
      return send(request, response, 200, thumb, thumb.degraded ? standInCache : realCache);
    } catch (error) {
      if (controller.signal.aborted) return;
      // get() rejects only for a programmer's error (closed regenerator…): the service's fault.
      onError(error, request);
      if (!response.headersSent) sendText(response, 500, 'Internal Server Error');
      else response.destroy();
    } finally {
      response.off('close', onClose);
    }
  };
}

/** The path after `basePath`, without the query; undefined when the URL is outside `basePath`. */
function pathOf(url: string, basePath: string): string | undefined {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (basePath === '') return path;
  if (path !== basePath && !path.startsWith(`${basePath}/`)) return undefined;
  return path.slice(basePath.length);
}

function send(request: IncomingMessage, response: ServerResponse, status: number, thumb: Thumbnail, cacheControl: string): void {
  const etag = etagOf(thumb.body);
  response.setHeader('ETag', etag);
  response.setHeader('Cache-Control', cacheControl);
  response.setHeader('X-Thumbnail-Outcome', thumb.outcome);
  if (thumb.reason !== undefined) response.setHeader('X-Thumbnail-Reason', thumb.reason);
  response.setHeader('X-Content-Type-Options', 'nosniff');
  if (status === 200 && ifNoneMatch(request.headers['if-none-match'], etag)) {
    response.statusCode = 304;
    response.end();
    return;
  }
  response.statusCode = status;
  response.setHeader('Content-Type', thumb.contentType);
  response.setHeader('Content-Length', thumb.body.length);
  response.end(request.method === 'HEAD' ? undefined : thumb.body);
}

function sendText(response: ServerResponse, status: number, text: string): void {
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.setHeader('Content-Length', Buffer.byteLength(text));
  response.setHeader('Cache-Control', 'no-store');
  response.end(text);
}
