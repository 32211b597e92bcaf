/**
 * The progress display of `rethumb scan`, in the modes of the rebuild's (`progress.ts`): a bar on
 * a TTY (done/total, rate, ETA, records per status so far), a plain line or a JSON line every
 * `intervalMs` otherwise, or nothing. A `scan --verify` of a large store takes minutes: the bar
 * says how many.
 */
import { createTerminalBar } from './terminal-bar.js';
import type { ScanStatus } from '../batch/scan.js';
import { formatCount, formatDuration, formatRate } from './format.js';
import type { ProgressMode } from './progress.js';

export interface ScanSnapshot {
  /** Records scanned so far. */
  done: number;
  /** Records in the manifest, once counted. */
  total: number | undefined;
  runMs: number;
  counts: Readonly<Record<ScanStatus, number>>;
}

export interface ScanProgressDisplay {
  update(snapshot: ScanSnapshot): void;
  /** Render the last state once more and release the terminal. */
  stop(): void;
}

const STATUSES: readonly ScanStatus[] = ['present', 'missing', 'degraded', 'damaged', 'invalid'];

function rate(s: ScanSnapshot): { perSecond: number; etaMs: number | undefined } {
  const perSecond = s.runMs > 0 ? (s.done / s.runMs) * 1000 : 0;
  return { perSecond, etaMs: s.total === undefined || perSecond <= 0 ? undefined : (Math.max(0, s.total - s.done) / perSecond) * 1000 };
}

/** `1,234/10,000 12.3% | 85.2/s | ETA 1m43s | present 1,200 missing 30 damaged 4`. */
export function formatScanProgress(s: ScanSnapshot): string {
  const { perSecond, etaMs } = rate(s);
  const done = s.total === undefined ? formatCount(s.done) : `${formatCount(s.done)}/${formatCount(s.total)} ${s.total > 0 ? `${((Math.min(s.done, s.total) / s.total) * 100).toFixed(1)}%` : ''}`;
  const counts = STATUSES.filter((status) => s.counts[status] > 0).map((status) => `${status} ${formatCount(s.counts[status])}`).join(' ');
  return [done, formatRate(perSecond), `ETA ${etaMs === undefined ? '?' : formatDuration(etaMs)}`, counts || 'no records yet'].join(' | ');
}

export function createScanProgress(mode: ProgressMode, stream: NodeJS.WritableStream, intervalMs: number): ScanProgressDisplay {
  if (mode === 'quiet') return { update: () => {}, stop: () => {} };
  if (mode === 'bar') return barDisplay(stream);
  let last: ScanSnapshot | undefined;
  let printed: ScanSnapshot | undefined;
  const print = (): void => {
    if (!last || last === printed) return;
    printed = last;
    const { perSecond, etaMs } = rate(last);
    stream.write(
      mode === 'json'
        ? `${JSON.stringify({ progress: { scanned: last.done, total: last.total ?? null, recordsPerSecond: Math.round(perSecond), etaMs: etaMs === undefined ? null : Math.round(etaMs), counts: last.counts } })}\n`
        : `scan: ${formatScanProgress(last)}\n`,
    );
  };
  const timer = setInterval(print, intervalMs);
  timer.unref();
  return {
    update: (snapshot) => {
      last = snapshot;
    },
    stop: () => {
      clearInterval(timer);
      print();
    },
  };
}

function barDisplay(stream: NodeJS.WritableStream): ScanProgressDisplay {
  // Left on screen when the scan ends, its last state above the summary.
  return createTerminalBar<ScanSnapshot>(stream, formatScanProgress, false);
}
