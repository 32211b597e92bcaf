/**
 * Do browsers decode sealed thumbnails exactly as they decode the same files without a seal?
 * A one-off check (not part of `npm test`: it needs a browser): encodes a set of images in every
 * output format, seals them as rethumb stores them, serves both versions from a loopback server,
 * and asks headless Chromium to decode each one and compare their pixels on a canvas.
 *
 *   apt-get install chromium && npm run build && node scripts/check-browser-decode.js
 *   BROWSER=/path/to/chrome node scripts/check-browser-decode.js
 *
 * Prints one line per image and exits 1 if any sealed file fails to decode or differs.
 */
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { sealImage } from '../dist/integrity/seal-image.js';

const browser = process.env.BROWSER ?? 'chromium';
const photo = () => sharp({ create: { width: 160, height: 120, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } });
const translucent = () => sharp({ create: { width: 90, height: 70, channels: 4, background: { r: 20, g: 120, b: 200, alpha: 0.4 } } });
/** @type {Array<[string, 'jpeg' | 'png' | 'webp' | 'avif', Promise<Buffer>]>} */
const encoded = [
  ['jpeg', 'jpeg', photo().jpeg({ quality: 80 }).toBuffer()],
  ['progressive jpeg', 'jpeg', photo().jpeg({ quality: 80, progressive: true }).toBuffer()],
  ['png', 'png', photo().png().toBuffer()],
  ['png with alpha', 'png', translucent().png().toBuffer()],
  ['lossy webp', 'webp', photo().webp({ quality: 80 }).toBuffer()],
  ['lossy webp with alpha', 'webp', translucent().webp({ quality: 80 }).toBuffer()],
  ['lossless webp', 'webp', photo().webp({ lossless: true }).toBuffer()],
  ['lossless webp with alpha', 'webp', translucent().webp({ lossless: true }).toBuffer()],
  ['avif', 'avif', photo().avif({ quality: 50, effort: 2 }).toBuffer()],
  ['avif with alpha', 'avif', translucent().avif({ quality: 50, effort: 2 }).toBuffer()],
];
/** @type {Map<string, { type: string, body: Buffer }>} */
const files = new Map();
const names = [];
for (const [i, [name, format, pending]] of encoded.entries()) {
  const body = await pending;
  const { info } = await sharp(body).raw().toBuffer({ resolveWithObject: true });
  files.set(`/${i}/plain`, { type: `image/${format}`, body });
  files.set(`/${i}/sealed`, { type: `image/${format}`, body: sealImage(body, format, { width: info.width, height: info.height }) });
  names.push(name);
}

const page = `<!doctype html><meta charset="utf-8"><script>
async function pixels(src) {
  const img = new Image();
  img.src = src;
  await img.decode();
  const canvas = document.createElement('canvas');
  canvas.width = img.naturalWidth;
  canvas.height = img.naturalHeight;
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  return { w: img.naturalWidth, h: img.naturalHeight, data: ctx.getImageData(0, 0, canvas.width, canvas.height).data };
}
(async () => {
  const lines = [];
  for (let i = 0; i < ${names.length}; i++) {
    try {
      const [plain, sealed] = await Promise.all([pixels('/' + i + '/plain'), pixels('/' + i + '/sealed')]);
      let same = plain.w === sealed.w && plain.h === sealed.h && plain.data.length === sealed.data.length;
      for (let j = 0; same && j < plain.data.length; j++) if (plain.data[j] !== sealed.data[j]) same = false;
      lines.push(i + ' ok ' + sealed.w + 'x' + sealed.h + ' ' + (same ? 'identical' : 'DIFFERENT'));
    } catch (error) {
      lines.push(i + ' FAILED ' + error);
    }
  }
  await fetch('/results', { method: 'POST', body: lines.join('\\n') });
})();
</script>`;

/** @type {(text: string) => void} */
let report = () => {};
const reported = new Promise((resolve) => {
  report = resolve;
});
const server = createServer((request, response) => {
  const file = files.get(request.url ?? '');
  if (request.url === '/results') {
    let text = '';
    request.setEncoding('utf8').on('data', (chunk) => (text += chunk)).on('end', () => {
      response.writeHead(204).end();
      report(text);
    });
  } else if (request.url === '/') response.writeHead(200, { 'content-type': 'text/html' }).end(page);
  else if (file) response.writeHead(200, { 'content-type': file.type }).end(file.body);
  else response.writeHead(404).end();
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
const address = /** @type {import('node:net').AddressInfo} */ (server.address());
const profile = await mkdtemp(join(tmpdir(), 'rethumb-browser-'));
let failed = false;
try {
  const child = spawn(browser, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-default-apps', '--disable-sync', '--no-first-run', '--metrics-recording-only', `--user-data-dir=${profile}`,
    `http://127.0.0.1:${address.port}/`,
  ], { stdio: 'ignore' });
  const timeout = setTimeout(() => report('timed out after 60 s'), 60_000);
  const text = await reported;
  clearTimeout(timeout);
  child.kill();
  const { stdout: version } = await promisify(execFile)(browser, ['--version']);
  const results = text.split('\n');
  if (results.length !== names.length) failed = true;
  process.stdout.write(`${version.trim()}\n`);
  for (const line of results) {
    const [i, status, ...rest] = line.split(' ');
    if (status !== 'ok' || !rest.includes('identical')) failed = true;
    process.stdout.write(`${names[Number(i)]?.padEnd(26)} ${status} ${rest.join(' ')}\n`);
  }
} finally {
  server.close();
  await rm(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
