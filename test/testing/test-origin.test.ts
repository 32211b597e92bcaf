import { connect } from 'node:net';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestOrigin, type TestOrigin } from '../../src/testing/test-origin.js';

let origin: TestOrigin;
let client: Agent;

beforeEach(async () => {
  origin = await startTestOrigin();
  client = new Agent({ connections: 10 });
});
afterEach(async () => {
  await client.close();
  await origin.close();
});

/** What a raw TCP client receives for one request: every byte, and how the connection ended. */
interface RawExchange {
  head: string;
  body: Buffer;
  errorCode: string | undefined;
}

async function rawGet(path: string): Promise<RawExchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let errorCode: string | undefined;
    const socket = connect(origin.port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${origin.host}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      errorCode = error.code;
    });
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      resolve({
        head: split === -1 ? all.toString('latin1') : all.subarray(0, split).toString('latin1'),
        body: split === -1 ? Buffer.alloc(0) : all.subarray(split + 4),
        errorCode,
      });
    });
  });
}

/** Live timers in this process (vitest's own included: compare, never assert absolute numbers). */
function countTimers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

function get(path: string, options: { headersTimeout?: number } = {}) {
  return request(origin.urlFor(path), { dispatcher: client, ...options });
}

describe('routes', () => {
  it('image: status 200, content type, honest length, exact bytes', async () => {
    const body = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
    origin.route('/a.jpg', { kind: 'image', body, contentType: 'image/jpeg', headers: { 'cache-control': 'no-store' } });
    const response = await get('/a.jpg');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/jpeg');
    expect(response.headers['content-length']).toBe(String(body.length));
    expect(response.headers['cache-control']).toBe('no-store');
    expect(Buffer.from(await response.body.arrayBuffer())).toEqual(body);
  });

  it('image with delayMs holds the headers back', async () => {
    origin.route('/slow.jpg', { kind: 'image', body: Buffer.from('x'), contentType: 'image/jpeg', delayMs: 150 });
    const started = Date.now();
    const response = await get('/slow.jpg');
    // A lower bound only: the delay is behaviour, not performance.
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(await response.body.text()).toBe('x');
  });

  it('status: any status with headers and body', async () => {
    origin.route('/busy', { kind: 'status', status: 429, headers: { 'retry-after': '3' }, body: 'slow down' });
    origin.route('/gone', { kind: 'status', status: 410 });
    const busy = await get('/busy');
    expect(busy.statusCode).toBe(429);
    expect(busy.headers['retry-after']).toBe('3');
    expect(await busy.body.text()).toBe('slow down');
    const gone = await get('/gone');
    expect(gone.statusCode).toBe(410);
    expect(await gone.body.text()).toBe('410\n');
  });

  it('html: an HTML page labelled image/jpeg by default, or any type and status', async () => {
    origin.route('/err.jpg', { kind: 'html' });
    origin.route('/err.png', { kind: 'html', contentType: 'image/png', status: 404, body: '<html>nope</html>' });
    const first = await get('/err.jpg');
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('image/jpeg');
    expect((await first.body.text()).toLowerCase()).toContain('<html');
    const second = await get('/err.png');
    expect(second.statusCode).toBe(404);
    expect(second.headers['content-type']).toBe('image/png');
    expect(await second.body.text()).toBe('<html>nope</html>');
  });

  it('stall: never answers, counts as in flight', async () => {
    origin.route('/hang', { kind: 'stall' });
    const pending = get('/hang', { headersTimeout: 200 }).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    const deadline = Date.now() + 2_000;
    while (origin.inFlight < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(origin.inFlight).toBe(1);
    expect((await pending)?.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(origin.hits('/hang')).toBe(1);
  });

  it.each([true, false])('trickle: sends the whole body slowly (contentLength %s)', async (contentLength) => {
    const body = Buffer.from('0123456789');
    origin.route('/drip', { kind: 'trickle', body, intervalMs: 20, chunkBytes: 3, contentLength });
    const response = await get('/drip');
    if (contentLength) expect(response.headers['content-length']).toBe('10');
    else {
      expect(response.headers['content-length']).toBeUndefined();
      expect(response.headers['transfer-encoding']).toBe('chunked');
    }
    let chunks = 0;
    const received: Buffer[] = [];
    for await (const chunk of response.body) {
      chunks += 1;
      received.push(chunk as Buffer);
    }
    expect(Buffer.concat(received).toString()).toBe('0123456789');
    expect(chunks).toBeGreaterThan(1);
  });

  it('truncate: declares the full length, sends only sendBytes, then closes', async () => {
    origin.route('/cut', { kind: 'truncate', body: Buffer.alloc(1000, 7), sendBytes: 300 });
    const exchange = await rawGet('/cut');
    expect(exchange.head).toMatch(/^HTTP\/1\.1 200/);
    expect(exchange.head.toLowerCase()).toContain('content-length: 1000');
    expect(exchange.body.length).toBe(300);
  });

  it('reset: resets the connection without a byte of answer', async () => {
    origin.route('/rst', { kind: 'reset' });
    const exchange = await rawGet('/rst');
    expect(exchange.head).toBe('');
    expect(exchange.errorCode).toBe('ECONNRESET');
  });

  it('redirect: status and Location as given', async () => {
    origin.route('/old', { kind: 'redirect', location: '/new?x=1' });
    origin.route('/moved', { kind: 'redirect', location: 'https://elsewhere.invalid/a', status: 308 });
    const old = await get('/old');
    expect(old.statusCode).toBe(302);
    expect(old.headers.location).toBe('/new?x=1');
    await old.body.dump();
    const moved = await get('/moved');
    expect(moved.statusCode).toBe(308);
    expect(moved.headers.location).toBe('https://elsewhere.invalid/a');
    await moved.body.dump();
  });

  it('flaky: fails N times with the status, then serves the next route; re-registering re-arms it', async () => {
    const route = {
      kind: 'flaky',
      failures: 2,
      status: 503,
      headers: { 'retry-after': '1' },
      then: { kind: 'image', body: Buffer.from('finally'), contentType: 'image/png' },
    } as const;
    origin.route('/flaky', route);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await get('/flaky');
      statuses.push(response.statusCode);
      if (i === 0) expect(response.headers['retry-after']).toBe('1');
      if (i === 3) expect(await response.body.text()).toBe('finally');
      else await response.body.dump();
    }
    expect(statuses).toEqual([503, 503, 200, 200]);
    origin.resetCounts();
    expect((await get('/flaky')).statusCode).toBe(200);
    origin.route('/flaky', route);
    expect((await get('/flaky')).statusCode).toBe(503);
  });

  it('large: a chunked body of exactly `bytes`, starting with `head`', async () => {
    origin.route('/large', { kind: 'large', bytes: 300_000, head: Buffer.from('GIF89a'), chunkBytes: 70_000 });
    const response = await get('/large');
    expect(response.headers['content-length']).toBeUndefined();
    expect(response.headers['transfer-encoding']).toBe('chunked');
    const body = Buffer.from(await response.body.arrayBuffer());
    expect(body.length).toBe(300_000);
    expect(body.subarray(0, 6).toString()).toBe('GIF89a');
    expect(body.subarray(6).every((b) => b === 0)).toBe(true);
  });

  it('large: stops streaming when the client goes away', async () => {
    origin.route('/endless', { kind: 'large', bytes: 1_000_000_000 });
    const response = await get('/endless');
    let read = 0;
    for await (const chunk of response.body) {
      read += (chunk as Buffer).length;
      if (read > 200_000) break;
    }
    const deadline = Date.now() + 2_000;
    while (origin.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(origin.inFlight).toBe(0);
  });

  it('handler: any custom behaviour', async () => {
    origin.route('/custom', {
      kind: 'handler',
      handle: (req, res) => {
        res.writeHead(418, { 'x-method': req.method ?? '' });
        res.end('teapot');
      },
    });
    const response = await get('/custom');
    expect(response.statusCode).toBe(418);
    expect(response.headers['x-method']).toBe('GET');
    expect(await response.body.text()).toBe('teapot');
  });

  it('unknown paths answer 404; query strings are ignored for routing and counting', async () => {
    origin.route('/q.png', { kind: 'image', body: Buffer.from('q'), contentType: 'image/png' });
    const missing = await get('/nope');
    expect(missing.statusCode).toBe(404);
    await missing.body.dump();
    const queried = await get('/q.png?size=large&v=2');
    expect(await queried.body.text()).toBe('q');
    expect(origin.hits('/q.png')).toBe(1);
    expect(origin.hits('/q.png?other=1')).toBe(1);
    expect(origin.hits('/nope')).toBe(1);
    expect(origin.hits()).toBe(2);
    expect(origin.lastRequest('/q.png')?.target).toBe('/q.png?size=large&v=2');
  });

  it('routes given at start serve at once, and route() replaces them', async () => {
    await origin.close();
    origin = await startTestOrigin({ routes: { '/r': { kind: 'status', status: 500 } } });
    const first = await get('/r');
    expect(first.statusCode).toBe(500);
    await first.body.dump();
    origin.route('/r', { kind: 'image', body: Buffer.from('fixed'), contentType: 'image/png' });
    expect(await (await get('/r')).body.text()).toBe('fixed');
  });
});

describe('counters', () => {
  it('url, host, port and urlFor agree', () => {
    expect(origin.url).toBe(`http://127.0.0.1:${origin.port}`);
    expect(origin.host).toBe(`127.0.0.1:${origin.port}`);
    expect(origin.urlFor('/a/b.jpg')).toBe(`${origin.url}/a/b.jpg`);
    expect(origin.urlFor('c.jpg')).toBe(`${origin.url}/c.jpg`);
  });

  it('counts requests in flight and the most at once', async () => {
    origin.route('/wait', { kind: 'image', body: Buffer.from('w'), contentType: 'image/png', delayMs: 100 });
    const responses = Promise.all([get('/wait'), get('/wait'), get('/wait')]);
    const deadline = Date.now() + 2_000;
    while (origin.inFlight < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(origin.inFlight).toBe(3);
    for (const response of await responses) await response.body.dump();
    expect(origin.maxInFlight).toBe(3);
    expect(origin.hits('/wait')).toBe(3);
    expect(origin.connections).toBe(3);
    while (origin.inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(origin.inFlight).toBe(0);
    origin.resetCounts();
    expect(origin.hits()).toBe(0);
    expect(origin.hits('/wait')).toBe(0);
    expect(origin.maxInFlight).toBe(0);
    expect(origin.connections).toBe(0);
  });

  it('counts connections, so keep-alive reuse shows', async () => {
    origin.route('/k', { kind: 'image', body: Buffer.from('k'), contentType: 'image/png' });
    const single = new Agent({ connections: 1 });
    try {
      for (let i = 0; i < 3; i++) await (await request(origin.urlFor('/k'), { dispatcher: single })).body.text();
    } finally {
      await single.close();
    }
    expect(origin.hits('/k')).toBe(3);
    expect(origin.connections).toBe(1);
  });
});

describe('close()', () => {
  it('does not hang on stalled and trickling connections, and ends them', async () => {
    origin.route('/hang', { kind: 'stall' });
    origin.route('/drip', { kind: 'trickle', body: Buffer.alloc(10_000), intervalMs: 50 });
    origin.route('/later', { kind: 'image', body: Buffer.from('x'), contentType: 'image/png', delayMs: 60_000 });
    const timersBefore = countTimers();
    const outcomes = Promise.allSettled([
      get('/hang').then((r) => r.body.text()),
      get('/drip').then((r) => r.body.text()),
      get('/later').then((r) => r.body.text()),
    ]);
    const deadline = Date.now() + 2_000;
    while (origin.inFlight < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(origin.inFlight).toBe(3);

    let guard: NodeJS.Timeout | undefined;
    const closed = await Promise.race([origin.close().then(() => 'closed'), new Promise((r) => (guard = setTimeout(() => r('hung'), 2_000)))]);
    clearTimeout(guard);
    expect(closed).toBe('closed');
    // Every client sees its connection end: nothing is left half-open.
    const settled = await outcomes;
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'rejected']);
    // Closing twice is harmless.
    await origin.close();
    // The minute-long delay and the trickle interval were cleared, not left to fire later.
    expect(countTimers()).toBeLessThanOrEqual(timersBefore);
  });

  it('refuses new connections after close', async () => {
    const { port } = origin;
    await origin.close();
    const code = await new Promise<string | undefined>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code));
    });
    expect(code).toBe('ECONNREFUSED');
  });
});
