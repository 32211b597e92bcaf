// A fallback test in YOUR suite (vitest): stage a broken origin with rethumb/testing and assert
// that your thumbnails still render — a placeholder of the right size, never an error.
// Run here with `npm run test:examples`.
import { afterAll, beforeAll, expect, it } from 'vitest';
import sharp from 'sharp';
import { createRegenerator, MemoryStore, type Regenerator } from 'rethumb';
import { expectValidThumbnail, isPlaceholder, startTestOrigin, type TestOrigin } from 'rethumb/testing';

const variants = { avatar: { width: 96, height: 96, fit: 'cover' } } as const;
let origin: TestOrigin;
let regen: Regenerator;

beforeAll(async () => {
  const photo = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#c33' } }).jpeg().toBuffer();
  origin = await startTestOrigin({
    routes: {
      '/ok.jpg': { kind: 'image', body: photo, contentType: 'image/jpeg' },
      '/deleted.jpg': { kind: 'status', status: 404 },
      '/cdn-error.jpg': { kind: 'html' },
    },
  });
  // Loopback is forbidden by default: allow exactly the test origin.
  regen = createRegenerator({ store: new MemoryStore(), variants, allowHosts: [origin.host] });
});
afterAll(async () => {
  await regen?.close();
  await origin?.close();
});

it('renders a real avatar when the origin is healthy', async () => {
  const thumb = await regen.get({ key: 'users/1', url: origin.urlFor('/ok.jpg') }, 'avatar');
  expect(isPlaceholder(thumb)).toBe(false);
  await expectValidThumbnail(thumb, variants.avatar);
});

it.each(['/deleted.jpg', '/cdn-error.jpg'])('renders a placeholder avatar of the right size when %s fails', async (path) => {
  const thumb = await regen.get({ key: `users${path.replace('.jpg', '')}`, url: origin.urlFor(path) }, 'avatar');
  expect(isPlaceholder(thumb)).toBe(true);
  expect(thumb.reason).toMatch(/^RETHUMB_/);
  await expectValidThumbnail(thumb, variants.avatar);
  expect(origin.hits(path)).toBe(1);
});
