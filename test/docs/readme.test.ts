/**
 * The README is the user's guide: it documents every code a user can meet (fallback reasons and
 * errors alike), says near the top that the package is ESM, and what the address policy refuses.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';

const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('documents every error code and fallback reason', () => {
    const missing = Object.values(ErrorCodes).filter((code) => !readme.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('says near the top that the package is ESM only, and how require() fares', () => {
    const top = readme.split('\n').slice(0, 40).join('\n');
    expect(top).toContain('ESM only');
    expect(top).toContain("require('rethumb')");
  });

  it("documents the command line's address policy and the flags that relax it", () => {
    const cli = readme.slice(readme.indexOf('## Command line'), readme.indexOf('## Where it plugs in'));
    for (const text of ['loopback', 'private', 'link-local', '169.254.169.254', '--allow-host', '--allow-private-networks', 'RETHUMB_RECENTLY_FAILED']) {
      expect(cli).toContain(text);
    }
  });
});
