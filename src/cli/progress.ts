/**
 * The progress display of a batch job, in one of four modes:
 * - `bar`: a cli-progress bar on a TTY (done/total, rate, ETA, outcomes so far);
 * - `plain`: one text line every `intervalMs` (logs, CI, pipes);
 * - `json`: one `{"progress":…}` JSON line every `intervalMs` (for other programs);
 * - `quiet`: nothing.
 * Everything goes to stderr; stdout is kept for the final summary.
 */
import { createTerminalBar } from './terminal-bar.js';
import type { RecordOutcome } from '../regenerator/rebuild-types.js';
import { formatBytes, formatCount, formatDuration, formatRate } from './format.js';

export type ProgressMode = 'bar' | 'plain' | 'json' | 'quiet';

/** What the display shows. */
export interface ProgressSnapshot {
  /** Records finished, earlier runs of a resumed job included. */
  done: number;
  /** Records in the manifest, once known. */
  total: number | undefined;
  /** Records finished by this run (the rate's numerator). */
  doneThisRun: number;
  /** Time this run has been going, ms. */
  runMs: number;
  counts: Readonly<Record<RecordOutcome, number>>;
  bytesDownloaded: number;
  bytesWritten: number;
}

export interface ProgressDisplay {
  update(snapshot: ProgressSnapshot): void;
  /**
   * Print a line of its own (a malformed manifest line, a signal's notice) without garbling
   * the display: on a terminal the bar is cleared, the line printed, the bar drawn again below.
   */
  log(line: string): void;
  /** Release the terminal (a bar is cleared: the summary that follows says it all). */
  stop(): void;
}

export interface ProgressOptions {
  mode: ProgressMode;
  stream: NodeJS.WritableStream;
  /** For `plain` and `json`. @default 10_000 */
  intervalMs?: number;
}

const OUTCOMES: readonly RecordOutcome[] = ['regenerated', 'stored', 'mirror', 'derived', 'placeholder'];

/** Records per second of this run, and the time left at that rate (undefined without a total or a rate). */
export function progressRate(s: ProgressSnapshot): { perSecond: number; etaMs: number | undefined } {
  const perSecond = s.runMs > 0 ? (s.doneThisRun / s.runMs) * 1000 : 0;
  const etaMs = s.total === undefined || perSecond <= 0 ? undefined : (Math.max(0, s.total - s.done) / perSecond) * 1000;
  return { perSecond, etaMs };
}

/** One line: `1,234/10,000 12.3% | 85.2/s | ETA 1m43s | regenerated 1,000 stored 200 … | 12.3 MB down, 1.1 MB written`. */
export function formatProgress(s: ProgressSnapshot): string {
  const { perSecond, etaMs } = progressRate(s);
  const done = s.total === undefined ? formatCount(s.done) : `${formatCount(s.done)}/${formatCount(s.total)} ${percent(s.done, s.total)}`;
  const outcomes = OUTCOMES.filter((o) => s.counts[o] > 0).map((o) => `${o} ${formatCount(s.counts[o])}`).join(' ');
  return [
    done,
    formatRate(perSecond),
    `ETA ${etaMs === undefined ? '?' : formatDuration(etaMs)}`,
    outcomes || 'no records yet',
    `${formatBytes(s.bytesDownloaded)} down, ${formatBytes(s.bytesWritten)} written`,
  ].join(' | ');
}

/** The JSON form of a snapshot, for `--json`. */
export function progressJson(s: ProgressSnapshot): string {
  const { perSecond, etaMs } = progressRate(s);
  return JSON.stringify({
    progress: {
      done: s.done,
      total: s.total ?? null,
      recordsPerSecond: round(perSecond),
      etaMs: etaMs === undefined ? null : Math.round(etaMs),
      counts: s.counts,
      bytesDownloaded: s.bytesDownloaded,
      bytesWritten: s.bytesWritten,
    },
  });
}

export function createProgress(options: ProgressOptions): ProgressDisplay {
  switch (options.mode) {
    case 'quiet':
      return { update: () => {}, log: (line) => void options.stream.write(`${line}\n`), stop: () => {} };
    case 'bar':
      return barDisplay(options.stream);
    case 'plain':
      return periodicDisplay(options, (s) => `progress: ${formatProgress(s)}`);
    case 'json':
      return periodicDisplay(options, progressJson);
  }
}

function barDisplay(stream: NodeJS.WritableStream): ProgressDisplay {
  // Cleared on stop: the summary that follows says it all.
  return createTerminalBar<ProgressSnapshot>(stream, formatProgress, true);
}

function periodicDisplay(options: ProgressOptions, render: (s: ProgressSnapshot) => string): ProgressDisplay {
  let last: ProgressSnapshot | undefined;
  let printed: ProgressSnapshot | undefined;
  const print = (): void => {
    if (last && last !== printed) {
      printed = last;
      options.stream.write(`${render(last)}\n`);
    }
  };
  const timer = setInterval(print, options.intervalMs ?? 10_000);
  timer.unref();
  return {
    update: (snapshot) => {
      last = snapshot;
    },
    log: (line) => void options.stream.write(`${line}\n`),
    stop: () => {
      clearInterval(timer);
      print();
    },
  };
}

function percent(done: number, total: number): string {
  return total > 0 ? `${((Math.min(done, total) / total) * 100).toFixed(1)}%` : '';
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
