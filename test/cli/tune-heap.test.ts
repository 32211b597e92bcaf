import { describe, expect, it } from 'vitest';
import { CLI_HEAP_GROWING_PERCENT, tuneHeapForBatch } from '../../src/cli/tune-heap.js';

// What the tuning is worth is measured by `npm run bench` (experiment "V8 default heap
// growing"); these tests pin down when the bin applies it.
describe('tuneHeapForBatch', () => {
  it('sets V8 heap growing factor when the command line does not', () => {
    expect(tuneHeapForBatch([])).toBe(`--heap-growing-percent=${CLI_HEAP_GROWING_PERCENT}`);
    expect(tuneHeapForBatch(['--enable-source-maps', '--max-old-space-size=512'])).toBe('--heap-growing-percent=300');
  });

  it("leaves V8 alone when the user's command line sets the factor, in either spelling", () => {
    expect(tuneHeapForBatch(['--heap-growing-percent=0'])).toBeUndefined();
    expect(tuneHeapForBatch(['--heap-growing-percent', '50'])).toBeUndefined();
    expect(tuneHeapForBatch(['--heap_growing_percent=100'])).toBeUndefined();
  });
});
