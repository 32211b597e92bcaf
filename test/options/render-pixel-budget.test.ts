import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { MemoryStore } from '../../src/index.js';
import { DEFAULTS, resolveOptions } from '../../src/options.js';

const base = { store: new MemoryStore(), variants: { small: { width: 10 } } };

describe('renderPixelBudget', () => {
  it('defaults to maxPixels\' default, so the largest accepted source renders alone', () => {
    expect(resolveOptions(base).renderPixelBudget).toBe(DEFAULTS.renderPixelBudget);
    expect(DEFAULTS.renderPixelBudget).toBe(DEFAULTS.maxPixels);
    expect(resolveOptions({ ...base, renderPixelBudget: 5 }).renderPixelBudget).toBe(5);
  });

  it.each([0, -1, 1.5, '100', Number.NaN])('refuses %s with RETHUMB_CONFIG', (value) => {
    expect(() => resolveOptions({ ...base, renderPixelBudget: value as number })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, option: 'renderPixelBudget' }));
  });
});
