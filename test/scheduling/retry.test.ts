import { describe, expect, it } from 'vitest';
import { ConnectionError, ErrorCodes, HttpStatusError, NotAnImageError, OriginUnavailableError, TimeoutError } from '../../src/errors.js';
import { backoffDelay, isRetryable, RetryBudget, withRetries, type RetryInfo } from '../../src/scheduling/retry.js';

const URL_ = 'http://origin.invalid/a.jpg';
const POLICY = { retries: 3, baseDelayMs: 1, maxDelayMs: 5 };

describe('isRetryable', () => {
  it.each([408, 425, 429, 500, 502, 503, 504])('retries HTTP %d', (status) => {
    expect(isRetryable(new HttpStatusError(URL_, status))).toBe(true);
  });
  it.each([400, 401, 403, 404, 410, 451, 501])('never retries HTTP %d', (status) => {
    expect(isRetryable(new HttpStatusError(URL_, status))).toBe(false);
  });
  it('retries timeouts and connection errors, not what the bytes or the breaker say', () => {
    expect(isRetryable(new TimeoutError(URL_, 'headers', 10))).toBe(true);
    expect(isRetryable(new ConnectionError(URL_))).toBe(true);
    expect(isRetryable(new NotAnImageError(URL_, 'text'))).toBe(false);
    expect(isRetryable(new OriginUnavailableError(URL_, 'h', 0))).toBe(false);
    expect(isRetryable(new Error('bug'))).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('full jitter under an exponential ceiling capped by maxDelayMs', () => {
    const policy = { baseDelayMs: 100, maxDelayMs: 1_000 };
    expect(backoffDelay(1, policy, () => 0.999)).toBe(99);
    expect(backoffDelay(2, policy, () => 0.999)).toBe(199);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(200);
    expect(backoffDelay(10, policy, () => 0.999)).toBe(999);
    expect(backoffDelay(10, policy, () => 0)).toBe(0);
  });
});

describe('withRetries', () => {
  it('retries transient failures until success, reporting each retry', async () => {
    let calls = 0;
    const retries: RetryInfo[] = [];
    const value = await withRetries(
      async () => {
        calls += 1;
        if (calls < 3) throw new HttpStatusError(URL_, 503);
        return 'ok';
      },
      { policy: POLICY, budget: new RetryBudget(3), onRetry: (info) => retries.push(info) },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
  });

  it('never retries a 404', async () => {
    let calls = 0;
    const attempt = async (): Promise<never> => {
      calls += 1;
      throw new HttpStatusError(URL_, 404);
    };
    await expect(withRetries(attempt, { policy: POLICY, budget: new RetryBudget(3) })).rejects.toMatchObject({ code: ErrorCodes.HTTP_STATUS, status: 404 });
    expect(calls).toBe(1);
  });

  it('shares one budget across calls (a record and its mirrors)', async () => {
    const budget = new RetryBudget(2);
    let calls = 0;
    const failing = async (): Promise<never> => {
      calls += 1;
      throw new ConnectionError(URL_);
    };
    await expect(withRetries(failing, { policy: POLICY, budget })).rejects.toMatchObject({ code: ErrorCodes.CONNECTION });
    await expect(withRetries(failing, { policy: POLICY, budget })).rejects.toMatchObject({ code: ErrorCodes.CONNECTION });
    expect(calls).toBe(4);
    expect(budget.left).toBe(0);
  });

  it('reports the failure that opened the breaker, not the refusal', async () => {
    let calls = 0;
    const attempt = async (): Promise<never> => {
      calls += 1;
      throw calls === 1 ? new TimeoutError(URL_, 'headers', 10) : new OriginUnavailableError(URL_, 'h', 0);
    };
    await expect(withRetries(attempt, { policy: POLICY, budget: new RetryBudget(3) })).rejects.toMatchObject({ code: ErrorCodes.TIMEOUT });
  });

  it('the backoff wait ends when the signal aborts', async () => {
    const controller = new AbortController();
    const started = performance.now();
    const pending = withRetries(
      async () => {
        throw new HttpStatusError(URL_, 503);
      },
      { policy: { retries: 1, baseDelayMs: 60_000, maxDelayMs: 60_000 }, budget: new RetryBudget(1), signal: controller.signal, random: () => 0.99 },
    );
    setTimeout(() => controller.abort(new Error('stop')), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    // Loose bound: the backoff would have been ~59 s.
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});
