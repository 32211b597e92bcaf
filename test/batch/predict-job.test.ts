import { describe, expect, it } from 'vitest';
import { sampleIndices } from '../../src/batch/estimate.js';
import { predictJob, type SampleObservation } from '../../src/batch/predict-job.js';

/** `n` completions at `perSecond`, after a fill of `fillMs`, each with the given bytes. */
function steady(n: number, perSecond: number, fillMs = 0, bytes = (i: number) => 1000 + (i % 2) * 200): SampleObservation[] {
  return Array.from({ length: n }, (_, i) => ({ atMs: fillMs + ((i + 1) / perSecond) * 1000, bytesDownloaded: bytes(i), bytesWritten: bytes(i) / 10 }));
}

describe('predictJob', () => {
  it('predicts duration as the sample plus the rest at the steady rate', () => {
    const obs = steady(200, 50, 500);
    const sampleMs = obs.at(-1)!.atMs;
    const p = predictJob(10_000, obs, sampleMs);
    expect(p.recordsPerSecond.estimate).toBeCloseTo(50, 5);
    expect(p.durationMs.estimate).toBeCloseTo(sampleMs + (9_800 / 50) * 1000, 0);
    // A perfectly steady sample: a tight interval.
    expect(p.durationMs.high - p.durationMs.low).toBeLessThan(p.durationMs.estimate * 0.01);
    expect(p.sampled).toBe(200);
  });

  it('ignores the fill and drain when measuring the rate', () => {
    // A slow fill (first 10%) and drain (last 10%) at 5/s, 100/s in between.
    const times: number[] = [];
    let t = 0;
    for (let i = 0; i < 300; i += 1) {
      t += i < 30 || i >= 270 ? 200 : 10;
      times.push(t);
    }
    const obs = times.map((atMs) => ({ atMs, bytesDownloaded: 0, bytesWritten: 0 }));
    const p = predictJob(30_000, obs, t);
    expect(p.recordsPerSecond.estimate).toBeCloseTo(100, 0);
  });

  it('states a wider interval for a noisier sample, and it contains the estimate', () => {
    let t = 0;
    const obs = Array.from({ length: 200 }, (_, i) => {
      t += i % 40 < 20 ? 10 : 30; // alternating fast and slow stretches
      return { atMs: t, bytesDownloaded: 0, bytesWritten: 0 };
    });
    const p = predictJob(20_000, obs, t);
    expect(p.durationMs.low).toBeLessThan(p.durationMs.estimate);
    expect(p.durationMs.high).toBeGreaterThan(p.durationMs.estimate);
    expect((p.durationMs.high - p.durationMs.low) / p.durationMs.estimate).toBeGreaterThan(0.02);
  });

  it('scales bytes by the manifest size, with the standard error', () => {
    const p = predictJob(1_000, steady(100, 10), 10_000);
    expect(p.bytesDownloaded.estimate).toBeCloseTo(1_100 * 1_000, 0);
    expect(p.bytesWritten.estimate).toBeCloseTo(110 * 1_000, 0);
    expect(p.bytesDownloaded.low).toBeLessThan(p.bytesDownloaded.estimate);
    expect(p.bytesDownloaded.high).toBeGreaterThan(p.bytesDownloaded.estimate);
    // The whole manifest sampled: nothing left to guess.
    const whole = predictJob(100, steady(100, 10), 10_000);
    expect(whole.bytesDownloaded.high).toBe(whole.bytesDownloaded.estimate);
    expect(whole.durationMs.estimate).toBe(10_000);
  });

  it('handles an empty sample', () => {
    expect(predictJob(10, [], 0).durationMs).toEqual({ estimate: 0, low: 0, high: 0 });
  });
});

describe('sampleIndices', () => {
  it('spreads the sample evenly over the manifest', () => {
    expect(sampleIndices(10, 20)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sampleIndices(1000, 4)).toEqual([125, 375, 625, 875]);
    const picks = sampleIndices(1_000_003, 200);
    expect(picks).toHaveLength(200);
    expect(new Set(picks).size).toBe(200);
    expect(picks.at(-1)).toBeLessThan(1_000_003);
  });
});
