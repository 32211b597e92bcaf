/**
 * Downloads one source image: http(s) only, redirects followed and re-checked hop by hop, a byte
 * limit enforced from Content-Length and while streaming (on the bytes as sent and, for a
 * compressed body, on the decoded bytes), a headers deadline per hop that interim (1xx) responses
 * do not extend, and a total deadline that covers the body. The body is read into one buffer.
 * Every failure is a `RethumbError` with a stable code (or the caller's abort reason).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { finished } from 'node:stream';
import { setImmediate as nextEventLoopTurn } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import {
  ConnectionError,
  ForbiddenAddressError,
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
import { linkSignals, type LinkedSignal } from '../linked-signal.js';
import { BodyBuffer } from './body-buffer.js';
import { contentCodings, decodeContent, type ContentCoding } from './decode-content.js';

/** Bytes handed to `inspect()` before the rest of a body is read: what file-type needs to sniff any format. */
export const SNIFF_BYTES = 4100;

/**
 * Longest host name fetched: what DNS allows (RFC 1035). A longer one cannot resolve; refusing
 * it up front also keeps host names of kilobytes out of every per-host table.
 */
export const MAX_HOSTNAME_LENGTH = 253;

export interface FetchSourceOptions {
  /** The dispatcher requests go through, normally `createGuardedAgent()`. */
  dispatcher: Dispatcher;
  /** Largest body in bytes; more is refused from Content-Length or while streaming. */
  maxBytes: number;
  /** Redirects followed; one more is `TooManyRedirectsError`. */
  maxRedirects: number;
  /** TOTAL deadline: connect + headers + whole body, across every redirect hop, in ms. */
  timeoutMs: number;
  /**
   * The dispatcher's connect timeout, in ms. undici sets it on the connector, not per request, so
   * it is only the value a `TimeoutError` with phase `connect` names when the dispatcher raised
   * a bare undici timeout (a guarded agent names its own).
   */
  connectTimeoutMs: number;
  /**
   * Deadline from each hop's request start (connecting included) to its final response's
   * headers, in ms. Interim responses (`103 Early Hints` …) do not extend it, although they
   * restart undici's own headers timer. Each redirect hop has its own.
   */
  headersTimeoutMs: number;
  /** Longest gap between body chunks, in ms (undici's `bodyTimeout`, set on every request). */
  bodyTimeoutMs: number;
  /** Sent as `User-Agent`. */
  userAgent: string;
  /** Aborts the download; the promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /**
   * Called once with the first bytes (up to SNIFF_BYTES = 4100; fewer if the body is shorter; an
   * empty Buffer for an empty body) BEFORE the rest is read into the body (bytes arriving
   * meanwhile wait, counted against `maxBytes`). For a compressed body these are the decoded
   * bytes. `head` is a view of the body being read: copy it to keep it. If it throws/rejects,
   * the download stops, the connection is dropped, and that error propagates unchanged. Used to
   * refuse HTML error pages early.
   */
  inspect?: (head: Buffer, response: { url: string; contentType: string | undefined }) => void | Promise<void>;
  /**
   * Told the bytes of memory the body's buffer holds whenever that changes (allocated from
   * `Content-Length`, grown, trimmed at the end), for a byte budget. Nothing is reported for
   * redirect and error bodies, which are dropped as they arrive. After a failure the buffer is
   * garbage: the caller stops counting it.
   */
  onBodyBytes?: (bytes: number) => void;
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

const UNDICI_TIMEOUTS: ReadonlyMap<unknown, Exclude<TimeoutPhase, 'total'>> = new Map([
  ['UND_ERR_CONNECT_TIMEOUT', 'connect'],
  ['UND_ERR_HEADERS_TIMEOUT', 'headers'],
  ['UND_ERR_BODY_TIMEOUT', 'body'],
]);

/** Marks an error thrown by `inspect()`, which must reach the caller unchanged. */
class InspectFailure {
  constructor(readonly error: unknown) {}
}

/**
 * Fetches `url` and resolves with its whole body, decoded from its `Content-Encoding`.
 *
 * Rejects with `InvalidUrlError`, `UnsupportedProtocolError`, `ForbiddenAddressError` (from a
 * guarded dispatcher), `HttpStatusError`, `TooManyRedirectsError`, `RedirectLoopError`,
 * `TooLargeError`, `TimeoutError`, `ConnectionError`, `UnsupportedEncodingError`,
 * `CorruptEncodingError`, whatever `inspect()` threw, or — when the caller's signal aborted —
 * that signal's `reason`.
 */
export async function fetchSource(url: string, options: FetchSourceOptions): Promise<FetchedSource> {
  options.signal?.throwIfAborted();
  const start = parseSourceUrl(url);
  const deadlines = new Deadlines(options);
  try {
    return await follow(start, options, deadlines);
  } finally {
    deadlines.dispose();
  }
}

/** Requests `start`, follows its redirects and reads the final body. */
async function follow(start: URL, options: FetchSourceOptions, deadlines: Deadlines): Promise<FetchedSource> {
  const { signal } = deadlines;
  let current = start;
  const visited = new Set([withoutHash(current)]);
  const redirects: string[] = [];

  for (;;) {
    let response: Dispatcher.ResponseData;
    deadlines.startHop(current.href);
    try {
      response = await request(current, {
        dispatcher: options.dispatcher,
        method: 'GET',
        headers: { 'user-agent': options.userAgent, accept: ACCEPT, 'accept-encoding': 'identity' },
        signal,
        // Also passed to undici, so that its own timers (which a 1xx restarts) use the same limits.
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
        // The body is never left to fill undici's buffer (see `arrivals`): no pause before it is read.
        highWaterMark: options.maxBytes,
      });
    } catch (error) {
      throw translate(error, current.href, options, deadlines);
    } finally {
      deadlines.headersArrived();
    }

    const { statusCode, headers, body } = response;
    // Every path below ends the body; without a listener, destroying it would emit an unhandled 'error'.
    body.on('error', noop);
    const location = header(headers, 'location');
    if (REDIRECT_STATUSES.has(statusCode) && location !== undefined) {
      try {
        await discard(body, signal);
      } catch (error) {
        throw translate(error, current.href, options, deadlines);
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
    let codings: ContentCoding[];
    try {
      // The announced length counts the bytes as sent (compressed or not): refused before reading.
      if (announced > options.maxBytes) throw new TooLargeError(current.href, options.maxBytes, announced, true);
      codings = contentCodings(headers['content-encoding'], current.href);
    } catch (error) {
      body.destroy();
      throw error;
    }
    try {
      const expected = codings.length === 0 && Number.isSafeInteger(announced) && announced >= 0 ? announced : undefined;
      const bytes = await readBody(body, current.href, contentType, codings, expected, options);
      // undici hands a finished socket back to its pool one event-loop turn after the body ends
      // (setImmediate in client-h1); resolving before that makes a back-to-back request to the
      // same origin — what a queue does when a slot frees — open a second socket instead of reusing this one.
      await nextEventLoopTurn();
      return { body: bytes, url: current.href, contentType, redirects };
    } catch (error) {
      body.destroy();
      if (error instanceof InspectFailure) throw error.error;
      throw translate(error, current.href, options, deadlines);
    }
  }
}

/**
 * The caller's signal, the total deadline and each hop's headers deadline as one signal. Not
 * `AbortSignal.any()` with `AbortSignal.timeout()`: on Node 20 every `any()` call leaves an
 * entry in the source signal's dependants set for good, so a rebuild passing one long-lived
 * signal to a million fetches would grow by tens of MB; and a timeout signal's timer cannot be
 * cleared when the fetch ends early.
 *
 * The headers deadline is ours rather than undici's `headersTimeout` alone: undici restarts its
 * headers timer on every interim response, so an origin sending `103 Early Hints` every few
 * seconds and never answering held a slot until the total deadline.
 */
class Deadlines {
  readonly #linked: LinkedSignal;
  readonly #options: FetchSourceOptions;
  readonly #total: NodeJS.Timeout;
  #headers: NodeJS.Timeout | undefined;
  #url = '';
  /** The deadline that passed first, if one did. */
  expired: TimeoutError | undefined;

  constructor(options: FetchSourceOptions) {
    this.#options = options;
    this.#linked = linkSignals([options.signal]);
    this.#total = setTimeout(() => this.#expire('total', options.timeoutMs), options.timeoutMs);
  }

  /** Aborts when the caller's signal does or when a deadline passes. */
  get signal(): AbortSignal {
    return this.#linked.signal;
  }

  /** A request to `url` starts: its headers deadline runs from now. */
  startHop(url: string): void {
    this.#url = url;
    this.#headers = setTimeout(() => this.#expire('headers', this.#options.headersTimeoutMs), this.#options.headersTimeoutMs);
  }

  /** The hop's final response headers arrived (or its request failed). */
  headersArrived(): void {
    clearTimeout(this.#headers);
    this.#headers = undefined;
  }

  /** Clears the timers and the listener on the caller's signal. */
  dispose(): void {
    clearTimeout(this.#total);
    this.headersArrived();
    this.#linked.dispose();
  }

  #expire(phase: 'headers' | 'total', limitMs: number): void {
    if (this.#linked.signal.aborted) return;
    this.expired = new TimeoutError(this.#url, phase, limitMs);
    this.#linked.abort(new DOMException(this.expired.message, 'TimeoutError'));
  }
}

/**
 * Reads the body, decoded from `codings`, into one buffer. Counts the bytes as sent and the
 * decoded bytes against `maxBytes` (a compressed body is bounded both ways), and calls
 * `inspect()` once the first SNIFF_BYTES decoded bytes are in.
 */
async function readBody(
  body: Dispatcher.ResponseData['body'],
  url: string,
  contentType: string | undefined,
  codings: readonly ContentCoding[],
  expected: number | undefined,
  options: FetchSourceOptions,
): Promise<Buffer> {
  const { maxBytes, inspect } = options;
  const raw = arrivals(body, url, maxBytes);
  const decodedFrom = codings.length === 0 ? undefined : codings.join(', ');
  const chunks = decodedFrom === undefined ? raw : decodeContent(raw, codings, url);
  const buffer = new BodyBuffer({ expected, maxBytes, onCapacity: options.onBodyBytes });
  let inspected = inspect === undefined;
  for await (const chunk of chunks) {
    const size = buffer.length + chunk.length;
    if (size > maxBytes) throw new TooLargeError(url, maxBytes, size, false, decodedFrom);
    buffer.append(chunk);
    if (!inspected && size >= SNIFF_BYTES) {
      inspected = true;
      await runInspect(inspect, buffer.head(SNIFF_BYTES), url, contentType);
    }
  }
  if (!inspected) await runInspect(inspect, buffer.head(SNIFF_BYTES), url, contentType);
  return buffer.bytes();
}

/**
 * The body's chunks as they arrive (the bytes as sent), refusing more than `maxBytes` of them.
 *
 * Read in flowing mode and queued here rather than pulled: undici pauses its HTTP/1 parser while
 * a body's buffer is full, and when the origin closes the connection at that moment (`Connection:
 * close` right after the last byte) undici throws an AssertionError (`assert(!this.paused)`,
 * nodejs/undici#5360, fixed only in undici 8, which needs Node 22) from the socket's 'end'
 * handler, where nobody can catch it: the process died. A body read slower than it arrives
 * (decoding on zlib's thread pool, a slow `inspect()`) did that for most gzip bodies served with
 * `Connection: close`. Chunks wait here instead, counted as they arrive, so at most `maxBytes`
 * wait before the body is refused.
 */
async function* arrivals(body: Dispatcher.ResponseData['body'], url: string, maxBytes: number): AsyncGenerator<Buffer> {
  const queue: Buffer[] = [];
  let size = 0;
  let done = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const onData = (chunk: Buffer): void => {
    if (failure !== undefined) return;
    size += chunk.length;
    if (size > maxBytes) {
      failure = new TooLargeError(url, maxBytes, size, false);
      queue.length = 0;
      body.destroy();
    } else {
      queue.push(chunk);
    }
    notify();
  };
  body.on('data', onData);
  const stopWatching = finished(body, (error) => {
    done = true;
    if (error) failure ??= error;
    notify();
  });
  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const chunk = queue.shift();
      if (chunk !== undefined) yield chunk;
      else if (done) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    body.off('data', onData);
    stopWatching();
  }
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
function translate(error: unknown, url: string, options: FetchSourceOptions, deadlines: Deadlines): unknown {
  // The caller's own abort is not a failure of the source: hand back exactly what they aborted with.
  if (options.signal?.aborted) return options.signal.reason;
  if (deadlines.expired) return deadlines.expired;
  // The connector knows the host, not the URL: name the hop refused (a redirect's target is not the source).
  if (error instanceof ForbiddenAddressError && error.url === undefined) return new ForbiddenAddressError(error.host, error.address, error.range, url);
  if (error instanceof RethumbError) return error;
  const phase = UNDICI_TIMEOUTS.get((error as { code?: unknown } | null)?.code);
  if (phase !== undefined) {
    const limits = { connect: options.connectTimeoutMs, headers: options.headersTimeoutMs, body: options.bodyTimeoutMs };
    return new TimeoutError(url, phase, limits[phase], error);
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
  if (url.hostname.length > MAX_HOSTNAME_LENGTH) {
    throw new InvalidUrlError(input, undefined, `its host name is ${url.hostname.length} characters, over the ${MAX_HOSTNAME_LENGTH} a DNS name can have`);
  }
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
