// For the examples' `--demo` mode: a loopback origin with one photo and one broken path, so
// every example runs in CI without reaching the internet.
import sharp from 'sharp';
import { startTestOrigin } from 'rethumb/testing';

/** Starts the origin; paths `/avatar.jpg`, `/photo-<n>.jpg` (n < 10), `/gone.jpg` (404), `/broken.jpg` (HTML). */
export async function demoOrigin() {
  const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a6ea5' } }).jpeg().toBuffer();
  /** @type {Record<string, import('rethumb/testing').OriginRoute>} */
  const routes = {
    '/avatar.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' },
    '/gone.jpg': { kind: 'status', status: 404 },
    '/broken.jpg': { kind: 'html' },
  };
  for (let n = 0; n < 10; n++) routes[`/photo-${n}.jpg`] = { kind: 'image', body: jpeg, contentType: 'image/jpeg' };
  return startTestOrigin({ routes });
}
