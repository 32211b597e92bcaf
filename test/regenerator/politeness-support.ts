/** Traffic counted at the origins themselves, across several origins (hosts), for the politeness tests. */
import type { HandlerRoute, OriginRoute } from '../../src/testing/test-origin.js';

export interface Arrival {
  /** `performance.now()` when the request reached the origin. */
  at: number;
  path: string;
  /** Requests in flight across every origin sharing this traffic, this one included. */
  inFlight: number;
}

export interface Traffic {
  inFlight: number;
  max: number;
  arrivals: Arrival[];
  /** `performance.now()` of each completed response, in order. */
  completions: number[];
}

export function newTraffic(): Traffic {
  return { inFlight: 0, max: 0, arrivals: [], completions: [] };
}

/** Serves `body` as image/jpeg after `delayMs`, counting in `traffic`. */
export function countedImage(traffic: Traffic, body: Uint8Array, delayMs: number, status = 200, headers: Record<string, string> = {}): HandlerRoute {
  return {
    kind: 'handler',
    handle: (req, res) => {
      traffic.inFlight += 1;
      traffic.max = Math.max(traffic.max, traffic.inFlight);
      traffic.arrivals.push({ at: performance.now(), path: req.url ?? '', inFlight: traffic.inFlight });
      let open = true;
      const timer = setTimeout(() => {
        const payload = status === 200 ? body : Buffer.from(`${status}\n`);
        res.writeHead(status, { ...headers, 'content-type': status === 200 ? 'image/jpeg' : 'text/plain', 'content-length': payload.length });
        res.end(payload);
      }, delayMs);
      res.once('close', () => {
        clearTimeout(timer);
        if (!open) return;
        open = false;
        traffic.inFlight -= 1;
        traffic.completions.push(performance.now());
      });
    },
  };
}

/** `count` routes `/<prefix>-<i>.jpg`, each built by `route`. */
export function numberedRoutes(prefix: string, count: number, route: (i: number) => OriginRoute): Record<string, OriginRoute> {
  const routes: Record<string, OriginRoute> = {};
  for (let i = 0; i < count; i += 1) routes[`/${prefix}-${i}.jpg`] = route(i);
  return routes;
}
