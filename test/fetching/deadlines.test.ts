/**
 * Every deadline of fetchSource holds against what origins really send, and every timeout names
 * its real phase and limit: interim (1xx) responses that undici lets restart its headers timer,
 * and bare undici timeouts raised by a dispatcher that is not the guarded agent.
 */
import { Agent as UndiciAgent, type Agent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { fetchSource } from '../../src/fetching/fetch-source.js';
import { startTestOrigin } from '../../src/testing/test-origin.js';
import { fetchOptions, rejectionOf, startRawOrigin, testAgent, type RawOrigin } from './support.js';

const EARLY_HINTS = 'HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n';
const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

/** A raw origin that answers every request with a `103 Early Hints` every `intervalMs`, and nothing else. */
async function earlyHintsForever(intervalMs: number): Promise<RawOrigin & { hints(): number }> {
  let hints = 0;
  const raw = await startRawOrigin((socket) => {
    const timer = setInterval(() => {
      hints += 1;
      socket.write(EARLY_HINTS);
    }, intervalMs);
    socket.once('close', () => clearInterval(timer));
  });
  open.push(raw);
  return Object.assign(raw, { hints: () => hints });
}

function agentFor(...hosts: string[]): Agent {
  const agent = testAgent(hosts);
  open.push(agent);
  return agent;
}

describe('fetchSource: the headers deadline against interim responses', () => {
  it('a 103 Early Hints every 100 ms does not extend a 600 ms headers deadline', async () => {
    const raw = await earlyHintsForever(100);
    // The total deadline is far away: before the fix it was what ended the request, as `total`.
    const error = await rejectionOf(fetchSource(raw.urlFor('/a.jpg'), fetchOptions(agentFor(raw.host), { headersTimeoutMs: 600, timeoutMs: 8_000 })));
    expect(error.code).toBe(ErrorCodes.TIMEOUT);
    expect(error.phase).toBe('headers');
    expect(error.timeoutMs).toBe(600);
    expect(error.message).toContain('headers deadline of 600 ms');
    expect(error.url).toBe(raw.urlFor('/a.jpg'));
    // Interim responses did arrive meanwhile (the case undici's own timer restarts on): about
    // six on a quiet machine; a loaded one (origin and client share this event loop) may fire
    // the interval only once before the deadline, which still restarted undici's timer.
    expect(raw.hints()).toBeGreaterThanOrEqual(1);
  });

  it('runs per redirect hop, from that hop\'s request start, and names the hop that stalled', async () => {
    const raw = await earlyHintsForever(100);
    const origin = await startTestOrigin({ routes: { '/start': { kind: 'redirect', location: raw.urlFor('/hinted.jpg') } } });
    open.push(origin);
    const error = await rejectionOf(
      fetchSource(origin.urlFor('/start'), fetchOptions(agentFor(origin.host, raw.host), { headersTimeoutMs: 500, timeoutMs: 8_000 })),
    );
    expect(error.code).toBe(ErrorCodes.TIMEOUT);
    expect(error.phase).toBe('headers');
    expect(error.timeoutMs).toBe(500);
    expect(error.url).toBe(raw.urlFor('/hinted.jpg'));
  });

  it('a final response after some interim ones inside the deadline is read normally', async () => {
    const body = Buffer.from('GIF89a-not-really');
    const raw = await startRawOrigin((socket) => {
      socket.write(EARLY_HINTS);
      const timer = setTimeout(() => {
        socket.write(EARLY_HINTS);
        socket.end(`HTTP/1.1 200 OK\r\ncontent-type: image/gif\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body.toString('latin1')}`);
      }, 50);
      socket.once('close', () => clearTimeout(timer));
    });
    open.push(raw);
    const result = await fetchSource(raw.urlFor('/ok.gif'), fetchOptions(agentFor(raw.host), { headersTimeoutMs: 2_000 }));
    expect(result.body.toString()).toBe(body.toString());
  });
});

describe('fetchSource: every timeout names its real phase and limit', () => {
  it('headers (stalled, no interim response)', async () => {
    const raw = await startRawOrigin(() => {});
    open.push(raw);
    const error = await rejectionOf(fetchSource(raw.urlFor('/stall'), fetchOptions(agentFor(raw.host), { headersTimeoutMs: 300 })));
    expect(error).toMatchObject({ code: ErrorCodes.TIMEOUT, phase: 'headers', timeoutMs: 300 });
    expect(error.message).toContain('headers deadline of 300 ms');
  });

  it('body (a gap between chunks), with a limit set per request rather than on the agent', async () => {
    const raw = await startRawOrigin((socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-type: image/gif\r\ncontent-length: 100\r\n\r\nGIF89a'));
    open.push(raw);
    const error = await rejectionOf(fetchSource(raw.urlFor('/gap'), fetchOptions(agentFor(raw.host), { bodyTimeoutMs: 300 })));
    expect(error).toMatchObject({ code: ErrorCodes.TIMEOUT, phase: 'body', timeoutMs: 300 });
    expect(error.message).toContain('body deadline of 300 ms');
  });

  it('total (a body that keeps coming)', async () => {
    const raw = await startRawOrigin((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: image/gif\r\ncontent-length: 100000\r\n\r\nGIF89a');
      const timer = setInterval(() => socket.write('x'), 20);
      socket.once('close', () => clearInterval(timer));
    });
    open.push(raw);
    const error = await rejectionOf(fetchSource(raw.urlFor('/drip'), fetchOptions(agentFor(raw.host), { timeoutMs: 400 })));
    expect(error).toMatchObject({ code: ErrorCodes.TIMEOUT, phase: 'total', timeoutMs: 400 });
    expect(error.message).toContain('total deadline of 400 ms');
  });

  it('connect, raised bare by a dispatcher that is not the guarded agent, names connectTimeoutMs', async () => {
    // A lookup that never answers holds the connect step until undici's connect timeout.
    const plain = new UndiciAgent({ connect: { timeout: 200, lookup: () => {} } });
    open.push(plain);
    const error = await rejectionOf(fetchSource('http://hang.example/a.jpg', fetchOptions(plain, { connectTimeoutMs: 200 })));
    expect(error).toMatchObject({ code: ErrorCodes.TIMEOUT, phase: 'connect', timeoutMs: 200 });
    expect(error.message).toContain('connect deadline of 200 ms');
  });
});
