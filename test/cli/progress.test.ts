import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration } from '../../src/cli/format.js';
import { createProgress, formatProgress, progressJson, progressRate, type ProgressSnapshot } from '../../src/cli/progress.js';

const snapshot = (over: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  done: 1234,
  total: 10_000,
  doneThisRun: 1000,
  runMs: 20_000,
  counts: { regenerated: 1000, stored: 200, mirror: 0, derived: 4, placeholder: 30 },
  bytesDownloaded: 123_400_000,
  bytesWritten: 5_600_000,
  ...over,
});

function sink(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.setEncoding('utf8').on('data', (d: string) => (text += d));
  return { stream, text: () => text };
}

describe('progress display', () => {
  it('formats done/total, rate, ETA and outcomes so far (the TTY line)', () => {
    expect(formatProgress(snapshot())).toBe(
      '1,234/10,000 12.3% | 50.0/s | ETA 2m55s | regenerated 1,000 stored 200 derived 4 placeholder 30 | 123 MB down, 5.6 MB written',
    );
    // The rate is this run's (a resumed job's earlier records do not inflate it).
    expect(progressRate(snapshot()).perSecond).toBe(50);
    expect(formatProgress(snapshot({ total: undefined }))).toMatch(/^1,234 \| 50\.0\/s \| ETA \? \|/);
    expect(formatProgress(snapshot({ doneThisRun: 0, done: 0, counts: { regenerated: 0, stored: 0, mirror: 0, derived: 0, placeholder: 0 } }))).toContain('no records yet');
  });

  it('formats JSON progress', () => {
    expect(JSON.parse(progressJson(snapshot()))).toEqual({
      progress: { done: 1234, total: 10_000, recordsPerSecond: 50, etaMs: 175_320, counts: snapshot().counts, bytesDownloaded: 123_400_000, bytesWritten: 5_600_000 },
    });
  });

  it('plain mode prints a line per interval and the last state on stop; quiet prints nothing', async () => {
    const plain = sink();
    const display = createProgress({ mode: 'plain', stream: plain.stream, intervalMs: 20 });
    display.update(snapshot({ done: 1 }));
    await new Promise((resolve) => setTimeout(resolve, 60));
    display.update(snapshot({ done: 2 }));
    display.stop();
    const lines = plain.text().trim().split('\n');
    expect(lines[0]).toMatch(/^progress: 1\/10,000 /);
    expect(lines.at(-1)).toMatch(/^progress: 2\/10,000 /);
    // An unchanged state is not printed twice.
    expect(lines.filter((l) => l.startsWith('progress: 1/')).length).toBe(1);

    const quiet = sink();
    const silent = createProgress({ mode: 'quiet', stream: quiet.stream });
    silent.update(snapshot());
    silent.stop();
    expect(quiet.text()).toBe('');
  });

  it('json mode prints JSON lines', () => {
    const out = sink();
    const display = createProgress({ mode: 'json', stream: out.stream, intervalMs: 60_000 });
    display.update(snapshot());
    display.stop();
    expect(JSON.parse(out.text())).toMatchObject({ progress: { done: 1234 } });
  });

  it('bar mode draws a cli-progress bar with the same line on a TTY stream', () => {
    const out = sink();
    const tty = Object.assign(out.stream, { isTTY: true, columns: 200, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const display = createProgress({ mode: 'bar', stream: tty });
    display.update(snapshot({ done: 5000 }));
    display.stop();
    expect(out.text()).toContain('5,000/10,000 50.0%');
    // Half done: half of the 24-character bar.
    expect(out.text()).toContain('============------------ 5,000/10,000');
  });

  it('formats bytes and durations', () => {
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(30_500_000_000)).toBe('30.5 GB');
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(3_725_000)).toBe('1h02m');
    expect(formatDuration(3 * 86_400_000)).toBe('3d00h');
    expect(formatDuration(Number.POSITIVE_INFINITY)).toBe('∞');
  });
});
