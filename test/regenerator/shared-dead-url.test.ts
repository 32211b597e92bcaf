/**
 * Many records sharing one dead URL (a default image that is gone, a manifest with duplicate
 * URLs): the origin is asked once. Records queued for a download slot when the first answer
 * came back ask the failure memory again before sending, so they do not go after it.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import type { RecordResult } from '../../src/index.js';
import { useHarness } from './support.js';

const { origin, regenerator } = useHarness({ small: { width: 48, height: 48, fit: 'cover' } });

describe('records sharing one dead URL', () => {
  it('a rebuild asks the origin once, and every record falls back with the failure it remembered', async () => {
    const server = await origin({ '/gone.jpg': { kind: 'status', status: 404 } });
    const regen = regenerator(server, { concurrency: 8 });
    const records = Array.from({ length: 12 }, (_, i) => ({ key: `k/${i}`, url: server.urlFor('/gone.jpg') }));
    const results: RecordResult[] = [];
    const report = await regen.rebuild(records, { onRecord: (r) => results.push(r) });
    expect(report.counts.placeholder).toBe(12);
    expect(server.hits('/gone.jpg')).toBe(1);
    expect(results.every((r) => r.failures?.[0]?.code === ErrorCodes.HTTP_STATUS && r.failures[0].status === 404)).toBe(true);
    expect(regen.stats().recentlyFailed).toBe(11);
  });
});
