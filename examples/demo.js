// The local demo: `npm run demo`.
//
// Starts a loopback origin that serves a few generated photos and some broken endpoints,
// rebuilds their thumbnails into ./demo-thumbs, and prints what happened to each record.
// Nothing leaves this machine: the only server is on 127.0.0.1.
import { rm } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { createRegenerator, FileStore } from 'rethumb';
import { startTestOrigin } from 'rethumb/testing';

const OUT = './demo-thumbs';

/**
 * A photo-like image: noise, so sizes and timings are realistic.
 * @param {'jpeg' | 'png' | 'webp' | 'avif' | 'gif'} format
 * @param {number} width
 * @param {number} height
 */
async function photo(format, width, height) {
  const noise = sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 50 } } });
  return noise.toFormat(format, format === 'avif' ? { effort: 0 } : {}).toBuffer();
}

/** A tiny PNG whose header claims 50 000 × 50 000 pixels: a decompression bomb. */
async function pixelBomb() {
  const png = Buffer.from(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#fff' } }).png().toBuffer());
  png.writeUInt32BE(50_000, 16);
  png.writeUInt32BE(50_000, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

const sunset = await photo('jpeg', 1600, 1067);
const origin = await startTestOrigin({
  routes: {
    '/photos/sunset.jpg': { kind: 'image', body: sunset, contentType: 'image/jpeg' },
    '/photos/logo.png': { kind: 'image', body: await photo('png', 640, 640), contentType: 'image/png' },
    '/photos/street.webp': { kind: 'image', body: await photo('webp', 1200, 800), contentType: 'image/webp' },
    '/photos/cat.avif': { kind: 'image', body: await photo('avif', 1000, 1000), contentType: 'image/avif' },
    '/photos/dance.gif': { kind: 'image', body: await photo('gif', 480, 360), contentType: 'image/gif' },
    '/old/sunset.jpg': { kind: 'redirect', location: '/photos/sunset.jpg', status: 301 },
    '/photos/gone.jpg': { kind: 'status', status: 404 },
    '/photos/flaky.jpg': { kind: 'status', status: 503 },
    '/mirror/flaky.jpg': { kind: 'image', body: await photo('jpeg', 900, 600), contentType: 'image/jpeg' },
    '/photos/error-page.jpg': { kind: 'html', contentType: 'image/jpeg', body: '<!doctype html><h1>Oops</h1>' },
    '/photos/half.jpg': { kind: 'image', body: sunset.subarray(0, sunset.length >> 1), contentType: 'image/jpeg' },
    '/photos/bomb.png': { kind: 'image', body: await pixelBomb(), contentType: 'image/png' },
    '/photos/slow.jpg': { kind: 'trickle', body: sunset, intervalMs: 100, chunkBytes: 1024 },
  },
});

const records = [
  { key: 'photos/sunset', url: origin.urlFor('/photos/sunset.jpg') },
  { key: 'photos/logo', url: origin.urlFor('/photos/logo.png') },
  { key: 'photos/street', url: origin.urlFor('/photos/street.webp') },
  { key: 'photos/cat', url: origin.urlFor('/photos/cat.avif') },
  { key: 'photos/dance', url: origin.urlFor('/photos/dance.gif') },
  { key: 'photos/moved', url: origin.urlFor('/old/sunset.jpg') },
  { key: 'photos/gone', url: origin.urlFor('/photos/gone.jpg'), width: 1600, height: 900, color: '#7c3aed' },
  { key: 'photos/flaky', url: origin.urlFor('/photos/flaky.jpg'), mirrors: [origin.urlFor('/mirror/flaky.jpg')] },
  { key: 'photos/error-page', url: origin.urlFor('/photos/error-page.jpg') },
  { key: 'photos/half', url: origin.urlFor('/photos/half.jpg') },
  { key: 'photos/bomb', url: origin.urlFor('/photos/bomb.png') },
  { key: 'photos/slow', url: origin.urlFor('/photos/slow.jpg') },
  // Loopback on another port: the address policy refuses it before any connection is made.
  { key: 'photos/internal', url: 'http://127.0.0.1:1/admin/avatar.jpg' },
  { key: 'photos/local-file', url: 'file:///etc/passwd' },
];

const regen = createRegenerator({
  store: new FileStore(OUT),
  variants: { small: { width: 150, height: 150, fit: 'cover' }, large: { width: 800 } },
  format: 'webp',
  // The demo origin is on loopback, which the default policy forbids: allow exactly it.
  allowHosts: [origin.host],
  timeoutMs: 3_000,
});

try {
  console.log(`rethumb demo: ${records.length} records from ${origin.url} into ${OUT}\n`);
  const report = await regen.rebuild(records, {
    // A stored stand-in says so: it is replaced once its source is back (retryDegraded).
    onRecord: (r) => console.log(`  ${r.key.padEnd(20)} ${(r.degraded ? `${r.outcome} (degraded)` : r.outcome).padEnd(19)} ${r.reason ?? ''}`),
  });
  const counts = Object.entries(report.counts).map(([outcome, n]) => `${outcome} ${n}`).join(', ');
  console.log(`\n${report.total} records in ${Math.round(report.durationMs)} ms: ${counts}`);
  console.log(`${report.bytesDownloaded} bytes downloaded, ${report.bytesWritten} bytes written`);

  // The request path: a service asks for thumbnails and always gets an image.
  console.log('\nget() on the request path:');
  for (const { key, url, variant } of [
    { key: 'photos/sunset', url: '/photos/sunset.jpg', variant: 'small' },
    { key: 'photos/gone', url: '/photos/gone.jpg', variant: 'large' },
  ]) {
    const thumb = await regen.get({ key, url: origin.urlFor(url), width: 1600, height: 900 }, variant);
    console.log(`  ${key} ${variant}: ${thumb.outcome} ${thumb.width}x${thumb.height} ${thumb.contentType} ${thumb.body.length} bytes ${thumb.reason ?? ''}`);
  }

  // The print-shop outage: the original is lost but the large preview survived.
  await rm(`${OUT}/photos/sunset/small.webp`, { force: true });
  origin.route('/photos/sunset.jpg', { kind: 'status', status: 404 });
  const fresh = createRegenerator({
    store: new FileStore(OUT),
    variants: { small: { width: 150, height: 150, fit: 'cover' }, large: { width: 800 } },
    allowHosts: [origin.host],
  });
  const derived = await fresh.get({ key: 'photos/sunset', url: origin.urlFor('/photos/sunset.jpg') }, 'small');
  console.log(`  photos/sunset small after its original was lost: ${derived.outcome} (degraded: ${derived.degraded}) ${derived.reason}`);
  await fresh.close();

  console.log(`\nThumbnails are in ${OUT}/<key>/<variant>.webp. Placeholders are never stored.`);
  console.log('Run `npm run demo` again: records already stored are skipped (onlyMissing).');
} finally {
  await regen.close();
  await origin.close();
}
