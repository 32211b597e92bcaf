// A backend service on Express: GET /thumbs/<variant>/<key> answers from the store, regenerates
// on a miss, and never errors. `resolve` is your database lookup.
//
//   node examples/express-service.js          # listens on PORT (default 3000) until SIGTERM or Ctrl-C
//   node examples/express-service.js --demo   # loopback origin, one request to itself, exit
import express from 'express';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegenerator, FileStore } from 'rethumb';
import { createThumbnailHandler } from 'rethumb/http';
import { demoOrigin } from './support/demo-origin.js';

const demo = process.argv.includes('--demo');
const origin = demo ? await demoOrigin() : undefined;

/** @type {Map<string, import('rethumb').ThumbRecord>} Your database; here, a Map. */
const photos = new Map([['users/42', { url: origin ? origin.urlFor('/avatar.jpg') : 'https://example.com/avatars/42.jpg' }]]);

// The demo writes to a temp directory it removes; a real service to THUMBS_DIR.
const thumbsDir = process.env.THUMBS_DIR ?? (demo ? await mkdtemp(join(tmpdir(), 'rethumb-example-')) : './thumbs');
const regen = createRegenerator({
  store: new FileStore(thumbsDir),
  variants: { small: { width: 150, height: 150, fit: 'cover' }, large: { width: 800 } },
  // Loopback is forbidden by default; only the demo origin is allowed through.
  ...(origin ? { allowHosts: [origin.host] } : {}),
});

const app = express();
app.use('/thumbs', createThumbnailHandler({ regenerator: regen, resolve: (key) => photos.get(key) }));
app.get('/healthz', (_req, res) => {
  res.json(regen.stats());
});

const server = app.listen(demo ? 0 : Number(process.env.PORT ?? 3000), '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const address = /** @type {import('node:net').AddressInfo} */ (server.address());
console.log(`listening on http://127.0.0.1:${address.port}/thumbs/small/users/42`);

/** Stop taking requests, let those in flight finish, release the regenerator. */
async function shutdown() {
  await new Promise((resolve) => server.close(resolve));
  await regen.close();
  await origin?.close();
}

if (!demo) {
  process.once('SIGTERM', shutdown);
  process.once('SIGINT', shutdown);
} else {
  const response = await fetch(`http://127.0.0.1:${address.port}/thumbs/small/users/42`);
  await response.arrayBuffer();
  console.log(`demo: ${response.status} ${response.headers.get('content-type')} outcome=${response.headers.get('x-thumbnail-outcome')}`);
  await shutdown();
  if (!process.env.THUMBS_DIR) await rm(thumbsDir, { recursive: true, force: true });
}
