import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FailureLedger, MAX_BACKOFF_MS, nextCheckAt, permanentBackoffMs } from '../../src/batch/failure-ledger.js';
import { ErrorCodes } from '../../src/errors.js';

const HOUR = 3_600_000;
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rethumb-ledger-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('failure memory', () => {
  it('backs off permanent failures 1h, 4h, 16h, 64h, then every 7 days', () => {
    expect([1, 2, 3, 4, 5, 9].map(permanentBackoffMs)).toEqual([HOUR, 4 * HOUR, 16 * HOUR, 64 * HOUR, MAX_BACKOFF_MS, MAX_BACKOFF_MS]);
    expect(MAX_BACKOFF_MS).toBe(7 * 24 * HOUR);
    expect(nextCheckAt({ k: 'a', c: 'transient', code: ErrorCodes.TIMEOUT, at: 5, n: 3 })).toBe(5);
  });

  it('holds a permanent failure until its backoff passes, never a transient one, and forgets a success', async () => {
    let now = 1_000_000;
    const path = join(dir, 'failures.jsonl');
    const ledger = await FailureLedger.open(path, { now: () => now });
    ledger.fail('gone', 'permanent', ErrorCodes.HTTP_STATUS, 404);
    ledger.fail('busy', 'transient', ErrorCodes.HTTP_STATUS, 503);
    expect(ledger.onHold('gone')).toMatchObject({ c: 'permanent', n: 1, s: 404 });
    expect(ledger.onHold('busy')).toBeUndefined();
    now += HOUR - 1;
    expect(ledger.onHold('gone')).toBeDefined();
    now += 1;
    expect(ledger.onHold('gone')).toBeUndefined();
    // Checked again and still gone: the next wait is longer.
    ledger.fail('gone', 'permanent', ErrorCodes.HTTP_STATUS, 404);
    now += 4 * HOUR - 1;
    expect(ledger.onHold('gone')).toMatchObject({ n: 2 });
    // A transient failure in between restarts the count.
    ledger.fail('gone', 'transient', ErrorCodes.TIMEOUT, undefined);
    ledger.fail('gone', 'permanent', ErrorCodes.HTTP_STATUS, 410);
    expect(ledger.get('gone')).toMatchObject({ n: 1, s: 410 });
    ledger.succeed('busy');
    expect(ledger.get('busy')).toBeUndefined();
    await ledger.flush();

    // Remembered across runs (the append log is replayed) …
    const reopened = await FailureLedger.open(path, { now: () => now });
    expect(reopened.size).toBe(1);
    expect(reopened.get('gone')).toMatchObject({ c: 'permanent', code: ErrorCodes.HTTP_STATUS, s: 410, n: 1 });
    await ledger.save();
    // … and compacted to what is remembered.
    await reopened.save();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l).k)).toEqual(['gone']);
  });

  it('never remembers a local refusal, and forgets those an earlier version remembered', async () => {
    const path = join(dir, 'failures.jsonl');
    // What a version before the `local` class wrote for a run without --allow-host.
    await writeFile(path, `${JSON.stringify({ k: 'old', c: 'permanent', code: ErrorCodes.FORBIDDEN_ADDRESS, at: 1, n: 1 })}\n`);
    const ledger = await FailureLedger.open(path, { now: () => 2 });
    expect(ledger.size).toBe(0);
    ledger.fail('gone', 'permanent', ErrorCodes.HTTP_STATUS, 404);
    expect(ledger.fail('gone', 'local', ErrorCodes.FORBIDDEN_ADDRESS, undefined)).toBeUndefined();
    expect(ledger.fail('svg', 'local', ErrorCodes.UNSUPPORTED_FORMAT, undefined)).toBeUndefined();
    // The earlier, real failure of `gone` stays; nothing is remembered of `svg`.
    expect(ledger.get('gone')).toMatchObject({ c: 'permanent', s: 404 });
    expect(ledger.get('svg')).toBeUndefined();
    await ledger.save();
    expect((await readFile(path, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l).k)).toEqual(['gone']);
  });
});
