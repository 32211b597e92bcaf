/**
 * The host coordination of `rethumb rebuild --processes N`: each worker's IPC client against the
 * parent's one server, here joined by a loopback channel that does what the `fork` channel does
 * to a message (JSON, delivered later). The real processes are in test/cli/processes.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CoordinationServer } from '../../src/batch/coordination-server.js';
import type { CoordinationReply, CoordinationRequest } from '../../src/batch/coordination-messages.js';
import { IpcCoordinationClient } from '../../src/batch/ipc-coordination.js';
import { ErrorCodes } from '../../src/errors.js';
import { DEFAULTS } from '../../src/options.js';
import type { HostCoordinatorSettings } from '../../src/scheduling/host-coordinator.js';
import { describeHostCoordinator, settings, waitFor } from '../scheduling/host-coordinator-contract.js';

interface Worker {
  client: IpcCoordinationClient;
  /** The worker dies: the parent disconnects its session. */
  kill(): void;
}

function serverFor(s: HostCoordinatorSettings): CoordinationServer {
  return new CoordinationServer({
    perHost: s.perHost,
    circuitBreaker: s.circuitBreaker,
    retry: { ...DEFAULTS.retry, maxRetryAfterMs: s.maxRetryAfterMs },
    timeoutMs: s.timeoutMs,
    negativeCache: DEFAULTS.negativeCache,
  });
}

/** A worker connected to `server` through a loopback channel. */
function connect(server: CoordinationServer): Worker {
  const wire = <T>(message: T): T => JSON.parse(JSON.stringify(message)) as T;
  let alive = true;
  const client = new IpcCoordinationClient((request: CoordinationRequest) => {
    const copy = wire(request);
    setImmediate(() => alive && session.handle(copy));
  });
  const session = server.connect((reply: CoordinationReply) => {
    const copy = wire(reply);
    setImmediate(() => alive && client.handle(copy));
  });
  return {
    client,
    kill: () => {
      alive = false;
      client.close();
      session.disconnect();
    },
  };
}

/** Poll `condition` until it holds (bounded: 3 s). */
async function eventually(condition: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + 3_000;
  while (!(await condition()) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(await condition()).toBe(true);
}

let hosts = 0;
const uniqueHost = (): string => `ipc${(hosts += 1)}.example`;

describeHostCoordinator('IPC client of the parent’s coordinator', (s) => connect(serverFor(s)).client.coordination.hosts(s), uniqueHost);

describe('one coordinator for every worker of a job', () => {
  const capped = settings({ perHost: { concurrency: 3, initialConcurrency: 3, intervalMs: undefined, intervalCap: undefined } });

  it('holds the per-host cap across workers, and a dead worker’s permits go back', async () => {
    const server = serverFor(capped);
    const [a, b] = [connect(server), connect(server)];
    const [ca, cb] = [a.client.coordination.hosts(capped), b.client.coordination.hosts(capped)];
    const host = uniqueHost();
    const held = [await ca.acquire(host, { url: 'http://x/1' }), await ca.acquire(host, { url: 'http://x/2' }), await cb.acquire(host, { url: 'http://x/3' })];
    expect(server.hostStates()[host]).toMatchObject({ inFlight: 3 });
    let fourth = false;
    const waiting = cb.acquire(host, { url: 'http://x/4' }).then((p) => ((fourth = true), p));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(fourth).toBe(false);
    // Worker a is SIGKILLed holding two permits: the parent gives them back.
    a.kill();
    const permit = await waiting;
    expect(server.hostStates()[host]).toMatchObject({ inFlight: 2 });
    permit.release({ signal: 'ok' });
    held[2]!.release({ signal: 'ok' });
    await waitFor(() => server.hostStates()[host]?.inFlight === 0);
    b.kill();
  });

  it('a Retry-After seen by one worker pauses the host for the other, whose local view follows', async () => {
    const server = serverFor(capped);
    const [a, b] = [connect(server), connect(server)];
    const pauses: number[] = [];
    const ca = a.client.coordination.hosts(capped);
    const cb = b.client.coordination.hosts({ ...capped, observer: { hostPause: (e) => pauses.push(e.until) } });
    const host = uniqueHost();
    (await ca.acquire(host, { url: 'http://x/a' })).release({ signal: 'overload', retryAfterMs: 400 });
    const released = Date.now();
    await waitFor(() => pauses.length === 1);
    expect(cb.state(host)?.pausedUntil).toBeGreaterThan(Date.now());
    (await cb.acquire(host, { url: 'http://x/b' })).release({ signal: 'ok' });
    expect(Date.now() - released).toBeGreaterThanOrEqual(330);
    a.kill();
    b.kill();
  });

  it('an open circuit refuses every worker; its state lapses into "ask the parent" when the cool-down ends', async () => {
    const s = settings({ circuitBreaker: { failures: 1, coolDownMs: 200 } });
    const server = serverFor(s);
    const [a, b] = [connect(server), connect(server)];
    const [ca, cb] = [a.client.coordination.hosts(s), b.client.coordination.hosts(s)];
    const host = uniqueHost();
    (await ca.acquire(host, { url: 'http://x/a' })).release({ signal: 'failure' });
    await waitFor(() => cb.state(host)?.circuit === 'open');
    expect(cb.state(host)?.refusing).toBe(true);
    await expect(cb.acquire(host, { url: 'http://x/b' })).rejects.toMatchObject({ code: ErrorCodes.ORIGIN_UNAVAILABLE, host, url: 'http://x/b' });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(cb.state(host)?.refusing).toBe(false);
    // Exactly one probe for the whole job.
    const probe = await cb.acquire(host, { url: 'http://x/probe' });
    expect(probe.probe).toBe(true);
    await expect(ca.acquire(host, { url: 'http://x/c' })).rejects.toMatchObject({ code: ErrorCodes.ORIGIN_UNAVAILABLE });
    probe.release({ signal: 'ok' });
    a.kill();
    b.kill();
  });

  it('shares the memory of failed URLs: one worker’s 404 is the other’s recent failure', async () => {
    const server = serverFor(capped);
    const [a, b] = [connect(server), connect(server)];
    const [fa, fb] = [a.client.coordination.failures({ ...DEFAULTS.negativeCache }), b.client.coordination.failures({ ...DEFAULTS.negativeCache })];
    expect(await fb.recall('http://x/gone.jpg')).toBeUndefined();
    fa.remember('http://x/gone.jpg', { source: 'http://x/gone.jpg', code: ErrorCodes.HTTP_STATUS, status: 404, message: '404 Not Found' });
    // A failure that says nothing about the URL (its host's circuit was open) is not remembered.
    fa.remember('http://x/closed.jpg', { source: 'http://x/closed.jpg', code: ErrorCodes.ORIGIN_UNAVAILABLE, message: 'circuit open' });
    // Two channels: b's recall may overtake a's remember, as between two real workers.
    await eventually(async () => (await fb.recall('http://x/gone.jpg')) !== undefined);
    expect(await fb.recall('http://x/gone.jpg')).toMatchObject({ failureClass: 'permanent', failure: { status: 404 } });
    expect(await fb.recall('http://x/closed.jpg')).toBeUndefined();
    expect(fb.size).toBe(1);
    fb.forget('http://x/gone.jpg');
    await eventually(async () => (await fa.recall('http://x/gone.jpg')) === undefined);
    expect(fa.size).toBe(0);
    // A worker whose channel closed answers "nothing remembered" at once.
    a.kill();
    expect(await fa.recall('http://x/gone.jpg')).toBeUndefined();
    b.kill();
  });
});
