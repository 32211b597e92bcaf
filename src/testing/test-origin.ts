/**
 * A programmable HTTP origin on 127.0.0.1 for tests: serve an image, or misbehave the ways real
 * origins do (error statuses, HTML error pages labelled as images, stalls, trickles, truncated
 * bodies, resets, redirects, flaky and oversized answers), and count what it was asked.
 *
 * ```ts
 * import { startTestOrigin } from 'rethumb/testing';
 *
 * const origin = await startTestOrigin({
 *   routes: {
 *     '/a.jpg': { kind: 'image', body: jpegBytes, contentType: 'image/jpeg' },
 *     '/gone.jpg': { kind: 'status', status: 410 },
 *   },
 * });
 * const regen = createRegenerator({ store, variants, allowHosts: [origin.host] });
 * const thumb = await regen.get({ url: origin.urlFor('/gone.jpg') }, 'small');
 * expect(thumb.outcome).toBe('placeholder');
 * expect(origin.hits('/gone.jpg')).toBe(1);
 * await origin.close();
 * ```
 *
 * Loopback is forbidden by rethumb's default address policy: pass `origin.host` in `allowHosts`.
 * Dependency-free (node:http only).
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Serves `body` with status 200, `Content-Type` and an honest `Content-Length`. */
export interface ImageRoute {
  kind: 'image';
  body: Uint8Array;
  /** e.g. `image/jpeg`. */
  contentType: string;
  /** Wait this long (ms) before sending the headers: a slow origin. */
  delayMs?: number;
  /** Extra response headers. */
  headers?: OutgoingHttpHeaders;
}

/** Answers with `status` (404, 410, 429, 500, 503 …), optional headers (e.g. `Retry-After`) and body. */
export interface StatusRoute {
  kind: 'status';
  status: number;
  headers?: OutgoingHttpHeaders;
  /** @default a short text naming the status */
  body?: string | Uint8Array;
}

/** Serves an HTML page, by default as `200 image/jpeg`: the error page a misconfigured CDN sends. */
export interface HtmlRoute {
  kind: 'html';
  /** @default 'image/jpeg' */
  contentType?: string;
  /** @default 200 */
  status?: number;
  /** @default a small "Not Found" page */
  body?: string;
}

/** Reads the request and never answers (until the origin closes): a hung origin. */
export interface StallRoute {
  kind: 'stall';
}

/** Sends the headers at once, then `chunkBytes` of `body` every `intervalMs`: a dripping body. */
export interface TrickleRoute {
  kind: 'trickle';
  body: Uint8Array;
  intervalMs: number;
  /** @default 1 */
  chunkBytes?: number;
  /** Send an honest `Content-Length`; when false the body is chunked. @default true */
  contentLength?: boolean;
  /** @default 'application/octet-stream' */
  contentType?: string;
}

/** Declares `body.length` as `Content-Length`, sends the first `sendBytes`, then destroys the socket. */
export interface TruncateRoute {
  kind: 'truncate';
  body: Uint8Array;
  sendBytes: number;
  /** @default 'application/octet-stream' */
  contentType?: string;
}

/** Resets the connection (TCP RST) without answering. */
export interface ResetRoute {
  kind: 'reset';
}

/** Redirects to `location` (absolute or relative, sent as is). */
export interface RedirectRoute {
  kind: 'redirect';
  location: string;
  /** @default 302 */
  status?: 301 | 302 | 303 | 307 | 308;
}

/**
 * Fails its first `failures` requests with `status` (and `headers`), then serves `then`.
 * The count starts when the route is registered (`routes` or `route()`); `resetCounts()` does
 * not re-arm it, registering it again does.
 */
export interface FlakyRoute {
  kind: 'flaky';
  failures: number;
  /** @default 503 */
  status?: number;
  headers?: OutgoingHttpHeaders;
  then: OriginRoute;
}

/**
 * Streams `bytes` bytes, chunked (no `Content-Length`), honouring back-pressure and stopping
 * when the client goes away: a body over a size limit that only counting can catch.
 */
export interface LargeRoute {
  kind: 'large';
  bytes: number;
  /** First bytes of the body (e.g. a real image header); the rest is zeros. */
  head?: Uint8Array;
  /** @default 65_536 */
  chunkBytes?: number;
  /** @default 'application/octet-stream' */
  contentType?: string;
}

/** Anything else: handle the request yourself. */
export interface HandlerRoute {
  kind: 'handler';
  handle: (request: IncomingMessage, response: ServerResponse) => void;
}

/** What the origin does for one path. */
export type OriginRoute =
  | ImageRoute
  | StatusRoute
  | HtmlRoute
  | StallRoute
  | TrickleRoute
  | TruncateRoute
  | ResetRoute
  | RedirectRoute
  | FlakyRoute
  | LargeRoute
  | HandlerRoute;

/** One request as the origin saw it. */
export interface OriginRequest {
  method: string;
  /** The path, query string removed. */
  path: string;
  /** The request target as sent, query string included. */
  target: string;
  headers: IncomingHttpHeaders;
}

export interface TestOriginOptions {
  /** Routes by path (query strings are ignored); unknown paths answer 404. */
  routes?: Record<string, OriginRoute>;
}

export interface TestOrigin {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `127.0.0.1:PORT`, ready for `allowHosts`. */
  readonly host: string;
  readonly port: number;
  /** The absolute URL of `path` (`/a.jpg` → `http://127.0.0.1:PORT/a.jpg`). */
  urlFor(path: string): string;
  /** Adds or replaces the route of `path` while running. */
  route(path: string, route: OriginRoute): void;
  /** Requests received, for every path or for one (query strings ignored). */
  hits(path?: string): number;
  /** The latest request received, for every path or for one. */
  lastRequest(path?: string): OriginRequest | undefined;
  /** Requests being answered right now. */
  readonly inFlight: number;
  /** The most requests answered at once since the start (or `resetCounts()`). */
  readonly maxInFlight: number;
  /** TCP connections accepted since the start (or `resetCounts()`): shows keep-alive reuse. */
  readonly connections: number;
  /** Zeroes hits, connections and `maxInFlight` (which restarts at the current `inFlight`). */
  resetCounts(): void;
  /** Stops listening, clears every timer and destroys open sockets, stalled ones included. */
  close(): Promise<void>;
}

const FILLER_BYTES = 65_536;
const OCTET_STREAM = 'application/octet-stream';
const NOT_FOUND_PAGE = '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n';

/** Starts an origin on an ephemeral port of 127.0.0.1. */
export async function startTestOrigin(options: TestOriginOptions = {}): Promise<TestOrigin> {
  const routes = new Map<string, OriginRoute>(Object.entries(options.routes ?? {}));
  // Failures served so far per flaky route object (a nested flaky route counts on its own).
  const flakyServed = new WeakMap<OriginRoute, number>();
  const hitsByPath = new Map<string, number>();
  const lastByPath = new Map<string, OriginRequest>();
  const timers = new Set<NodeJS.Timeout>();
  const sockets = new Set<Socket>();
  let totalHits = 0;
  let last: OriginRequest | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  let connections = 0;
  let closing: Promise<void> | undefined;

  /** A timer that close() clears; `repeat` keeps it firing until cleared. */
  const schedule = (ms: number, fn: () => void, repeat = false): NodeJS.Timeout => {
    const timer = repeat ? setInterval(fn, ms) : setTimeout(() => (timers.delete(timer), fn()), ms);
    timers.add(timer);
    return timer;
  };
  const cancel = (timer: NodeJS.Timeout): void => {
    clearTimeout(timer);
    timers.delete(timer);
  };

  const serve = (route: OriginRoute, req: IncomingMessage, res: ServerResponse): void => {
    switch (route.kind) {
      case 'image': {
        const send = (): void => {
          res.writeHead(200, { ...route.headers, 'content-type': route.contentType, 'content-length': route.body.length });
          res.end(route.body);
        };
        if (route.delayMs) {
          const timer = schedule(route.delayMs, send);
          res.once('close', () => cancel(timer));
        } else send();
        return;
      }
      case 'status': {
        const body = route.body ?? `${route.status}\n`;
        res.writeHead(route.status, { 'content-type': 'text/plain; charset=utf-8', ...route.headers, 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case 'html': {
        const body = route.body ?? NOT_FOUND_PAGE;
        res.writeHead(route.status ?? 200, { 'content-type': route.contentType ?? 'image/jpeg', 'content-length': Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      case 'stall':
        // Nothing: the socket stays open until the client gives up or close() destroys it.
        return;
      case 'trickle': {
        const step = Math.max(1, route.chunkBytes ?? 1);
        const headers: OutgoingHttpHeaders = { 'content-type': route.contentType ?? OCTET_STREAM };
        if (route.contentLength ?? true) headers['content-length'] = route.body.length;
        res.writeHead(200, headers);
        res.flushHeaders();
        let sent = 0;
        const timer = schedule(route.intervalMs, () => {
          if (res.destroyed) return cancel(timer);
          const next = Math.min(route.body.length, sent + step);
          res.write(route.body.subarray(sent, next));
          sent = next;
          if (sent >= route.body.length) {
            cancel(timer);
            res.end();
          }
        }, true);
        res.once('close', () => cancel(timer));
        return;
      }
      case 'truncate': {
        res.writeHead(200, { 'content-type': route.contentType ?? OCTET_STREAM, 'content-length': route.body.length });
        // Destroy only once the partial body is flushed, so the client sees exactly `sendBytes` then EOF.
        res.write(route.body.subarray(0, route.sendBytes), () => req.socket.destroy());
        return;
      }
      case 'reset':
        req.socket.resetAndDestroy();
        return;
      case 'redirect':
        res.writeHead(route.status ?? 302, { location: route.location, 'content-length': 0 });
        res.end();
        return;
      case 'flaky': {
        const served = flakyServed.get(route) ?? 0;
        if (served < route.failures) {
          flakyServed.set(route, served + 1);
          serve({ kind: 'status', status: route.status ?? 503, headers: route.headers ?? {} }, req, res);
        } else serve(route.then, req, res);
        return;
      }
      case 'large': {
        streamLarge(route, res);
        return;
      }
      case 'handler':
        route.handle(req, res);
        return;
    }
  };

  const server = createServer((req, res) => {
    const target = req.url ?? '/';
    const queryAt = target.indexOf('?');
    const path = queryAt === -1 ? target : target.slice(0, queryAt);
    const seen: OriginRequest = { method: req.method ?? 'GET', path, target, headers: req.headers };
    totalHits += 1;
    hitsByPath.set(path, (hitsByPath.get(path) ?? 0) + 1);
    lastByPath.set(path, seen);
    last = seen;
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.once('close', () => {
      inFlight -= 1;
    });
    // A client that goes away mid-response must not crash the origin.
    res.on('error', () => {});
    const route = routes.get(path);
    if (route === undefined) serve({ kind: 'status', status: 404 }, req, res);
    else serve(route, req, res);
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Resets and destroyed clients surface here; they are part of the show, not failures.
  server.on('clientError', (_error, socket: Socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  const url = `http://${host}`;

  return {
    url,
    host,
    port,
    urlFor: (path) => `${url}${path.startsWith('/') ? '' : '/'}${path}`,
    route: (path, route) => {
      flakyServed.delete(route);
      routes.set(path, route);
    },
    hits: (path) => (path === undefined ? totalHits : (hitsByPath.get(stripQuery(path)) ?? 0)),
    lastRequest: (path) => (path === undefined ? last : lastByPath.get(stripQuery(path))),
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get connections() {
      return connections;
    },
    resetCounts: () => {
      totalHits = 0;
      hitsByPath.clear();
      maxInFlight = inFlight;
      connections = 0;
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        // server.close() waits for open connections; stalled and trickling ones never end by themselves.
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}

function streamLarge(route: LargeRoute, res: ServerResponse): void {
  const step = Math.max(1, route.chunkBytes ?? FILLER_BYTES);
  const filler = Buffer.alloc(step);
  res.writeHead(200, { 'content-type': route.contentType ?? OCTET_STREAM });
  let sent = 0;
  const pump = (): void => {
    while (sent < route.bytes && !res.destroyed) {
      const size = Math.min(step, route.bytes - sent);
      let chunk = filler.subarray(0, size);
      if (route.head && sent < route.head.length) {
        chunk = Buffer.alloc(size);
        chunk.set(route.head.subarray(sent, sent + size));
      }
      sent += size;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end();
  };
  pump();
}

function stripQuery(path: string): string {
  const queryAt = path.indexOf('?');
  return queryAt === -1 ? path : path.slice(0, queryAt);
}
