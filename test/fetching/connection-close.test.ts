/**
 * An origin that closes the connection after its response (`Connection: close`, HTTP/1.0,
 * close-delimited bodies) while rethumb is not reading the body at that moment — zlib decoding
 * on the thread pool, `inspect()` sniffing — must not crash the process. undici pauses its parser
 * when a body's buffer is full, and a FIN arriving then threw an uncatchable AssertionError
 * (`assert(!this.paused)`, nodejs/undici#5360) from the socket's 'end' handler.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { fetchSource } from '../../src/fetching/fetch-source.js';
import { makeImage } from '../helpers/images.js';
import { fetchOptions, rejectionOf, testAgent } from './support.js';

let server: Server;
let host: string;
let dispatcher: Agent;
let jpeg: Buffer;
/** Resolves when the server has sent its last response and closed that connection. */
let closed: Promise<void>;
let handle: (res: ServerResponse) => void;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 640, 480, { noise: true });
  server = createServer((_req, res) => {
    closed = new Promise((resolve) => res.socket!.once('close', () => resolve()));
    handle(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  dispatcher = testAgent([host]);
});

afterAll(async () => {
  await dispatcher?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** An inspect() that holds the body unread until the origin has closed the connection (and its FIN is in). */
async function waitForClose(): Promise<void> {
  await closed;
  await sleep(100);
}

describe('fetchSource: the origin closes the connection while the body is not being read', () => {
  it('gzip bodies with Content-Length and `Connection: close` are decoded, whatever their size', async () => {
    // Whether the parser is paused when the FIN arrives depends on where the last chunk falls:
    // before the fix most of these sizes crashed the process.
    for (const size of [150_000, 200_000, 260_000, 330_000, 400_000, 520_000, 700_000, 1_000_000]) {
      const raw = randomBytes(size);
      const gzip = gzipSync(raw);
      handle = (res) => {
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-encoding': 'gzip', 'content-length': gzip.length, connection: 'close' });
        res.end(gzip);
      };
      const fetched = await fetchSource(`http://${host}/${size}.jpg`, fetchOptions(dispatcher));
      expect(fetched.body.equals(raw)).toBe(true);
    }
  });

  it('a close-delimited compressed body after a slow inspect() is decoded', async () => {
    const gzip = gzipSync(jpeg);
    handle = (res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-encoding': 'gzip', connection: 'close' });
      res.end(gzip);
    };
    const fetched = await fetchSource(`http://${host}/c.jpg`, fetchOptions(dispatcher, { inspect: waitForClose }));
    expect(fetched.body.equals(jpeg)).toBe(true);
  });

  it('bytes over maxBytes are refused as they arrive, even while inspect() holds the reading', async () => {
    const body = Buffer.concat([jpeg, Buffer.alloc(4 * 1024 * 1024, 0xff)]);
    handle = (res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', connection: 'close' });
      res.end(body);
    };
    // The origin finishes sending only if its bytes are read: the refusal closes the connection.
    const error = await rejectionOf(fetchSource(`http://${host}/d.jpg`, fetchOptions(dispatcher, { maxBytes: 2 * 1024 * 1024, inspect: waitForClose })));
    expect(error.code).toBe(ErrorCodes.TOO_LARGE);
  });
});
