// The same handler mounted in Fastify: `reply.hijack()` hands the raw request and response to
// it, so Fastify does not also try to send a reply.
//
//   node examples/fastify-service.js          # listens on PORT (default 3000) until SIGTERM or Ctrl-C
//   node examples/fastify-service.js --demo   # loopback origin, one request to itself, exit
import Fastify from 'fastify';
import { createRegenerator, MemoryStore } from 'rethumb';
import { createThumbnailHandler } from 'rethumb/http';
import { demoOrigin } from './support/demo-origin.js';

const demo = process.argv.includes('--demo');
const origin = demo ? await demoOrigin() : undefined;

/** @param {string} key @returns {Promise<import('rethumb').ThumbRecord | undefined>} Your database lookup. */
async function findPhoto(key) {
  if (key !== 'users/42') return undefined;
  return { url: origin ? origin.urlFor('/avatar.jpg') : 'https://example.com/avatars/42.jpg' };
}

const regen = createRegenerator({
  store: new MemoryStore(),
  variants: { small: { width: 150, height: 150, fit: 'cover' } },
  ...(origin ? { allowHosts: [origin.host] } : {}),
});
// Fastify passes the whole URL: strip the prefix in the handler.
const thumbnails = createThumbnailHandler({ regenerator: regen, resolve: findPhoto, basePath: '/thumbs' });

const app = Fastify();
app.get('/thumbs/*', (request, reply) => {
  reply.hijack();
  return thumbnails(request.raw, reply.raw);
});
app.addHook('onClose', () => regen.close());

const url = await app.listen({ host: '127.0.0.1', port: demo ? 0 : Number(process.env.PORT ?? 3000) });
console.log(`listening on ${url}/thumbs/small/users/42`);

if (!demo) {
  // app.close() runs the onClose hook (regen.close()) after requests in flight finish.
  process.once('SIGTERM', () => app.close());
  process.once('SIGINT', () => app.close());
} else {
  const hit = await fetch(`${url}/thumbs/small/users/42`);
  await hit.arrayBuffer();
  const missing = await fetch(`${url}/thumbs/small/users/0`);
  await missing.arrayBuffer();
  console.log(`demo: ${hit.status} outcome=${hit.headers.get('x-thumbnail-outcome')}; unknown key: ${missing.status} ${missing.headers.get('content-type')}`);
  await app.close();
  await origin?.close();
}
