/**
 * Downloads one source image: http(s) only, redirects followed and re-checked hop by hop, a byte
 * limit enforced from Content-Length and while streaming, and a total deadline that covers the
 * body. Every failure is a `RethumbError` with a stable code (or the caller's abort reason).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { setImmediate as nextEventLoopTurn } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import {
  ConnectionError,
  HttpStatusError,
  InvalidUrlError,
  RedirectLoopError,
  RethumbError,
  TimeoutError,
  TooLargeError,
  TooManyRedirectsError,
  UnsupportedProtocolError,
  type TimeoutPhase,
} from '../errors.js';
import { linkSignals } from '../linked-signal.js';

/** Bytes handed to `inspect()` before the rest of a body is read: what file-type needs to sniff any format. */
export const SNIFF_BYTES = 4100;

export interface FetchSourceOptions {
  /** The dispatcher requests go through, normally `createGuardedAgent()`. */
  dispatcher: Dispatcher;
  /** Largest body in bytes; more is refused from Content-Length or while streaming. */
  maxBytes: number;
  /** Redirects followed; one more is `TooManyRedirectsError`. */
  maxRedirects: number;
  /** TOTAL deadline: connect + headers + whole body, across every redirect hop, in ms. */
  timeoutMs: number;
  /** Sent as `User-Agent`. */
  userAgent: string;
  /** Aborts the download; the promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Per-request override of the dispatcher's headers timeout, in ms; also the value a
   * `TimeoutError` with phase `headers` reports (0 when not given: the dispatcher's own applies).
   */
  headersTimeoutMs?: number;
  /**
   * Per-request override of the dispatcher's body timeout (longest gap between chunks), in ms;
   * also the value a `TimeoutError` with phase `body` reports (0 when not given).
   */
  bodyTimeoutMs?: number;
  /**
   * Called once with the first bytes (up to SNIFF_BYTES = 4100; fewer if the body is shorter; an
   * empty Buffer for an empty body) BEFORE the rest is read. If it throws/rejects, the download
   * stops, the connection is dropped, and that error propagates unchanged. Used to refuse HTML
   * error pages early.
   */
  inspect?: (head: Buffer, response: { url: string; contentType: string | undefined }) => void | Promise<void>;
}

export interface FetchedSource {
  body: Buffer;
  /** The final URL, after redirects. */
  url: string;
  /** The final response's `Content-Type`, as sent. */
  contentType: string | undefined;
  /** Every URL a redirect led to, in order (the last one is `url`); empty without redirects. */
  redirects: readonly string[];
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const ACCEPT = 'image/avif,image/webp,image/*;q=0.8';
// Bytes of a redirect or error body read to keep the connection reusable; past that it is dropped.
const DUMP_LIMIT = 64 * 1024;

const UNDICI_TIMEOUTS: ReadonlyMap<unknown, TimeoutPhase> = new Map([
  ['UND_ERR_CONNECT_TIMEOUT', 'connect'],
  ['UND_ERR_HEADERS_TIMEOUT', 'headers'],
  ['UND_ERR_BODY_TIMEOUT', 'body'],
]);

/** Marks an error thrown by `inspect()`, which must reach the caller unchanged. */
class InspectFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Fetches `url` and resolves with its whole body.
 *
 * Rejects with `InvalidUrlError`, `UnsupportedProtocolError`, `ForbiddenAddressError` (from a
 * guarded dispatcher), `HttpStatusError`, `TooManyRedirectsError`, `RedirectLoopError`,
 * `TooLargeError`, `TimeoutError`, `ConnectionError`, whatever `inspect()` threw, or — when the
 * caller's signal aborted — that signal's `reason`.
 */
export async function fetchSource(url: string, options: FetchSourceOptions): Promise<FetchedSource> {
  options.signal?.throwIfAborted();
  const start = parseSourceUrl(url);
  const abort = linkAbort(options.signal, options.timeoutMs);
  try {
    return await follow(start, options, abort);
  } finally {
    abort.dispose();
  }
}

/** Requests `start`, follows its redirects and reads the final body. */
async function follow(start: URL, options: FetchSourceOptions, abort: LinkedAbort): Promise<FetchedSource> {
  const { signal } = abort;
  let current = start;
  const visited = new Set([withoutHash(current)]);
  const redirects: string[] = [];

  for (;;) {
    let response: Dispatcher.ResponseData;
    try {
      response = await request(current, {
        dispatcher: options.dispatcher,
        method: 'GET',
        headers: { 'user-agent': options.userAgent, accept: ACCEPT, 'accept-encoding': 'identity' },
        signal,
        ...(options.headersTimeoutMs === undefined ? {} : { headersTimeout: options.headersTimeoutMs }),
        ...(options.bodyTimeoutMs === undefined ? {} : { bodyTimeout: options.bodyTimeoutMs }),
      });
    } catch (error) {
      throw translate(error, current.href, options, abort);
    }

    const { statusCode, headers, body } = response;
    // Every path below ends the body; without a listener, destroying it would emit an unhandled 'error'.
    body.on('error', noop);
    const location = header(headers, 'location');
    if (REDIRECT_STATUSES.has(statusCode) && location !== undefined) {
      try {
        await discard(body, signal);
      } catch (error) {
        throw translate(error, current.href, options, abort);
      }
      const next = parseSourceUrl(location, current);
      if (visited.has(withoutHash(next))) throw new RedirectLoopError(current.href, next.href);
      if (redirects.length >= options.maxRedirects) throw new TooManyRedirectsError(start.href, options.maxRedirects);
      visited.add(withoutHash(next));
      redirects.push(next.href);
      current = next;
      continue;
    }
    if (statusCode < 200 || statusCode > 299) {
      // The status is the answer even if the error page cannot be read to its end.
      await discard(body, signal).catch(noop);
      if (options.signal?.aborted) throw options.signal.reason;
      throw new HttpStatusError(current.href, statusCode, header(headers, 'retry-after'));
    }

    const contentType = header(headers, 'content-type');
    const announced = Number(header(headers, 'content-length'));
    if (announced > options.maxBytes) {
      body.destroy();
      throw new TooLargeError(current.href, options.maxBytes, announced, true);
    }
    try {
      const bytes = await readBody(body, current.href, contentType, options);
      // undici hands a finished socket back to its pool one event-loop turn after the body ends
      // (setImmediate in client-h1); resolving before that makes a back-to-back request to the
      // same origin — what a queue does when a slot frees — open a second socket instead of reusing this one.
      await nextEventLoopTurn();
      return { body: bytes, url: current.href, contentType, redirects };
    } catch (error) {
      body.destroy();
      if (error instanceof InspectFailure) throw error.error;
      throw translate(error, current.href, options, abort);
    }
  }
}

interface LinkedAbort {
  /** Aborts when the caller's signal does or when the total deadline passes. */
  readonly signal: AbortSignal;
  /** True once the total deadline has passed. */
  readonly timedOut: boolean;
  /** Clears the deadline timer and the listener on the caller's signal. */
  dispose(): void;
}

/**
 * The caller's signal and the total deadline as one signal. Not `AbortSignal.any()` with
 * `AbortSignal.timeout()`: on Node 20 every `any()` call leaves an entry in the source signal's
 * dependants set for good, so a rebuild passing one long-lived signal to a million fetches would
 * grow by tens of MB; and a timeout signal's timer cannot be cleared when the fetch ends early.
 */
function linkAbort(callerSignal: AbortSignal | undefined, timeoutMs: number): LinkedAbort {
  const linked = linkSignals([callerSignal]);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    linked.abort(new DOMException(`The total deadline of ${timeoutMs} ms passed`, 'TimeoutError'));
  }, timeoutMs);
  return {
    signal: linked.signal,
    get timedOut() {
      return timedOut;
    },
    dispose: () => {
      clearTimeout(timer);
      linked.dispose();
    },
  };
}

async function readBody(body: Dispatcher.ResponseData['body'], url: string, contentType: string | undefined, options: FetchSourceOptions): Promise<Buffer> {
  const { maxBytes, inspect } = options;
  const chunks: Buffer[] = [];
  let size = 0;
  let inspected = inspect === undefined;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new TooLargeError(url, maxBytes, size, false);
    chunks.push(chunk);
    if (!inspected && size >= SNIFF_BYTES) {
      inspected = true;
      const head = Buffer.concat(chunks, size);
      chunks.length = 0;
      chunks.push(head);
      await runInspect(inspect, head.subarray(0, SNIFF_BYTES), url, contentType);
    }
  }
  const whole = Buffer.concat(chunks, size);
  if (!inspected) await runInspect(inspect, whole, url, contentType);
  return whole;
}

async function runInspect(inspect: FetchSourceOptions['inspect'], head: Buffer, url: string, contentType: string | undefined): Promise<void> {
  try {
    await inspect?.(head, { url, contentType });
  } catch (error) {
    throw new InspectFailure(error);
  }
}

/** Reads and drops a redirect or error body so the connection can serve the next request. */
async function discard(body: Dispatcher.ResponseData['body'], signal: AbortSignal): Promise<void> {
  await body.dump({ limit: DUMP_LIMIT, signal });
}

/** Maps what undici (or a guarded connector) threw to a rethumb error, or the caller's reason. */
function translate(error: unknown, url: string, options: FetchSourceOptions, abort: LinkedAbort): unknown {
  // The caller's own abort is not a failure of the source: hand back exactly what they aborted with.
  if (options.signal?.aborted) return options.signal.reason;
  if (abort.timedOut) return new TimeoutError(url, 'total', options.timeoutMs, error);
  if (error instanceof RethumbError) return error;
  const phase = UNDICI_TIMEOUTS.get((error as { code?: unknown } | null)?.code);
  if (phase !== undefined) {
    const limit = phase === 'headers' ? options.headersTimeoutMs : phase === 'body' ? options.bodyTimeoutMs : undefined;
    return new TimeoutError(url, phase, limit ?? 0, error);
  }
  // Refused, reset, closed early, truncated, DNS failure, TLS failure, malformed response: the
  // origin could not deliver, which is what ConnectionError means; `cause` keeps the detail.
  return new ConnectionError(url, error);
}

/** Parses `input` (relative to `base` for a redirect) and allows only http: and https:. */
function parseSourceUrl(input: string, base?: URL): URL {
  let url: URL;
  try {
    url = new URL(input, base);
  } catch (error) {
    throw new InvalidUrlError(input, error);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UnsupportedProtocolError(url.href, url.protocol);
  return url;
}

function noop(): void {}

function withoutHash(url: URL): string {
  return url.hash === '' ? url.href : url.href.slice(0, -url.hash.length);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
