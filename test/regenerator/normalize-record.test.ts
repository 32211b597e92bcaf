import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MAX_MIRRORS, MAX_URL_LENGTH, normalizeRecord } from '../../src/regenerator/normalize-record.js';

const base = 'http://images.example/';
const urlOf = (length: number): string => base + 'a'.repeat(length - base.length);

describe('normalizeRecord: bounds', () => {
  it(`accepts a url of exactly ${MAX_URL_LENGTH} characters and refuses one more, saying why`, () => {
    expect(normalizeRecord({ url: urlOf(MAX_URL_LENGTH) }).ok).toBe(true);
    const check = normalizeRecord({ key: 'k', url: urlOf(100_000) });
    expect(check.ok).toBe(false);
    if (check.ok) return;
    expect(check.error.code).toBe(ErrorCodes.INVALID_RECORD);
    expect(check.error.message).toBe(`Expected the record's \`url\` to be at most ${MAX_URL_LENGTH} characters, got 100000`);
    expect(check.key).toBe('k');
  });

  it('refuses a mirror past the URL length, naming it', () => {
    const check = normalizeRecord({ url: urlOf(100), mirrors: [urlOf(100), urlOf(MAX_URL_LENGTH + 1)] });
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.error.message).toContain('`mirrors[1]` to be at most');
  });

  it(`keeps up to ${MAX_MIRRORS} mirrors, in order, and refuses more rather than ignoring them silently`, () => {
    const mirrors = Array.from({ length: MAX_MIRRORS }, (_, i) => `${base}m${i}`);
    const ok = normalizeRecord({ url: `${base}a`, mirrors });
    expect(ok.ok && ok.value.sources).toEqual([`${base}a`, ...mirrors]);
    const check = normalizeRecord({ url: `${base}a`, mirrors: new Array(1_000_000).fill(`${base}m`) });
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.error.message).toBe(`Expected the record's \`mirrors\` to hold at most ${MAX_MIRRORS} URLs, got 1000000`);
  });
});
