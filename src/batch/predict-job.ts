/**
 * The arithmetic of `estimate`: from a sample's completions, predict a whole job's duration
 * and bytes, with a 95% interval. Pure, so it is tested on its own.
 *
 * Duration = the sample's own duration (which holds one pipeline fill and one drain, as the
 * full run will) + the remaining records at the sample's steady-state rate. The steady rate is
 * measured between the 20th and 80th percentile of completions, away from fill and drain; its
 * interval comes from the spread of the rate over five consecutive slices of that window
 * (Student's t). Bytes are the sample's mean per record × the manifest's records, with the
 * standard error of the mean (finite-population corrected).
 */

export interface SampleObservation {
  /** When the record finished, ms since the sample started. */
  atMs: number;
  bytesDownloaded: number;
  bytesWritten: number;
}

export interface Range {
  estimate: number;
  low: number;
  high: number;
}

export interface JobPrediction {
  /** Records in the manifest. */
  total: number;
  /** Records in the sample. */
  sampled: number;
  /** Records per second in the sample's steady state. */
  recordsPerSecond: Range;
  durationMs: Range;
  bytesDownloaded: Range;
  bytesWritten: Range;
}

const SLICES = 5;
// Two-sided 95% quantiles of Student's t for 1…10 degrees of freedom.
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228];

export function predictJob(total: number, observations: readonly SampleObservation[], sampleDurationMs: number): JobPrediction {
  const n = observations.length;
  const zero = { estimate: 0, low: 0, high: 0 };
  if (n === 0) return { total, sampled: 0, recordsPerSecond: zero, durationMs: zero, bytesDownloaded: zero, bytesWritten: zero };
  const times = observations.map((o) => o.atMs).sort((a, b) => a - b);
  const rate = steadyRate(times, sampleDurationMs);
  const remaining = Math.max(0, total - n);
  const durationAt = (perSecond: number): number => sampleDurationMs + (perSecond > 0 ? (remaining / perSecond) * 1000 : Number.POSITIVE_INFINITY);
  return {
    total,
    sampled: n,
    recordsPerSecond: rate,
    durationMs: { estimate: durationAt(rate.estimate), low: durationAt(rate.high), high: durationAt(rate.low) },
    bytesDownloaded: totalOf(observations.map((o) => o.bytesDownloaded), total),
    bytesWritten: totalOf(observations.map((o) => o.bytesWritten), total),
  };
}

/** Completions per second between the 20th and 80th percentile, with a 95% interval. */
function steadyRate(times: readonly number[], sampleDurationMs: number): Range {
  const n = times.length;
  const whole = sampleDurationMs > 0 ? (n / sampleDurationMs) * 1000 : 0;
  const from = Math.floor(n * 0.2);
  const to = Math.ceil(n * 0.8) - 1;
  if (to - from < SLICES * 2) return { estimate: whole, low: whole / 2, high: whole * 2 };
  const span = times[to]! - times[from]!;
  if (span <= 0) return { estimate: whole, low: whole / 2, high: whole * 2 };
  const estimate = ((to - from) / span) * 1000;
  const rates: number[] = [];
  const per = (to - from) / SLICES;
  for (let i = 0; i < SLICES; i += 1) {
    const a = from + Math.round(i * per);
    const b = from + Math.round((i + 1) * per);
    const dt = times[b]! - times[a]!;
    if (dt > 0) rates.push(((b - a) / dt) * 1000);
  }
  if (rates.length < 2) return { estimate, low: estimate / 2, high: estimate * 2 };
  const margin = tQuantile(rates.length - 1) * (standardDeviation(rates) / Math.sqrt(rates.length));
  return { estimate, low: Math.max(estimate - margin, estimate * 0.1), high: estimate + margin };
}

/** `total` × the mean of `values`, with a 95% interval (finite-population corrected). */
function totalOf(values: readonly number[], total: number): Range {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const estimate = mean * Math.max(total, n);
  if (n < 2) return { estimate, low: 0, high: estimate * 2 };
  const correction = total > n ? Math.sqrt(1 - n / total) : 0;
  const margin = tQuantile(n - 1) * (standardDeviation(values) / Math.sqrt(n)) * correction * Math.max(total, n);
  return { estimate, low: Math.max(0, estimate - margin), high: estimate + margin };
}

function standardDeviation(values: readonly number[]): number {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance);
}

function tQuantile(df: number): number {
  return df >= 1 && df <= T95.length ? T95[df - 1]! : 1.96;
}
