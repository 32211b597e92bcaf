// Prometheus metrics from a regenerator's events, with prom-client: outcomes by kind and reason,
// origin fetches, store errors, and gauges read from stats() at scrape time.
//
//   node examples/prometheus-metrics.js          # serves /metrics on PORT (default 9464) until SIGTERM or Ctrl-C
//   node examples/prometheus-metrics.js --demo   # a few gets against a loopback origin, prints the metrics, exit
import { createServer } from 'node:http';
import client from 'prom-client';
import { createRegenerator, MemoryStore } from 'rethumb';
import { demoOrigin } from './support/demo-origin.js';

/**
 * Registers rethumb's metrics for `regen` on `registry`.
 * @param {import('rethumb').Regenerator} regen
 * @param {client.Registry} registry
 */
export function instrument(regen, registry) {
  const outcomes = new client.Counter({ name: 'rethumb_thumbnails_total', help: 'Thumbnails served or rebuilt, by outcome', labelNames: ['outcome', 'reason', 'via'], registers: [registry] });
  const latency = new client.Histogram({ name: 'rethumb_thumbnail_seconds', help: 'Time to a thumbnail', labelNames: ['outcome'], buckets: [0.005, 0.05, 0.25, 1, 5], registers: [registry] });
  const fetches = new client.Counter({ name: 'rethumb_origin_fetches_total', help: 'Origin fetches, by result', labelNames: ['ok', 'code'], registers: [registry] });
  const fetchedBytes = new client.Counter({ name: 'rethumb_origin_bytes_total', help: 'Bytes downloaded from origins', registers: [registry] });
  const storeErrors = new client.Counter({ name: 'rethumb_store_errors_total', help: 'Store operations that failed', labelNames: ['operation'], registers: [registry] });
  new client.Gauge({
    name: 'rethumb_downloads_queued',
    help: 'Downloads waiting for a slot',
    registers: [registry],
    collect() {
      this.set(regen.stats().downloadsQueued);
    },
  });
  regen.on('outcome', (e) => {
    // Keys are unbounded: never a label. Reasons are a fixed set of codes.
    outcomes.inc({ outcome: e.outcome, reason: e.reason ?? 'none', via: e.via });
    latency.observe({ outcome: e.outcome }, e.durationMs / 1000);
  });
  regen.on('fetch', (e) => {
    fetches.inc({ ok: String(e.ok), code: e.code ?? 'none' });
    fetchedBytes.inc(e.bytes);
  });
  regen.on('storeError', (e) => storeErrors.inc({ operation: e.operation }));
}

const demo = process.argv.includes('--demo');
const origin = demo ? await demoOrigin() : undefined;
const regen = createRegenerator({
  store: new MemoryStore(),
  variants: { small: { width: 150, height: 150, fit: 'cover' } },
  ...(origin ? { allowHosts: [origin.host] } : {}),
});
const registry = new client.Registry();
instrument(regen, registry);

if (origin) {
  await regen.get({ url: origin.urlFor('/avatar.jpg') }, 'small');
  await regen.get({ url: origin.urlFor('/avatar.jpg') }, 'small');
  await regen.get({ url: origin.urlFor('/gone.jpg') }, 'small');
  const text = await registry.metrics();
  console.log(text.split('\n').filter((line) => line.startsWith('rethumb_thumbnails_total') || line.startsWith('rethumb_origin_fetches_total')).join('\n'));
  console.log('demo: metrics ok');
  await regen.close();
  await origin.close();
} else {
  const server = createServer(async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.end(await registry.metrics());
  }).listen(Number(process.env.PORT ?? 9464), '127.0.0.1', () => {
    const address = /** @type {import('node:net').AddressInfo} */ (server.address());
    console.log(`metrics on http://127.0.0.1:${address.port}/metrics`);
  });
  const shutdown = () => {
    server.close();
    void regen.close();
  };
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
}
