import { describe, expect, it } from 'vitest';
import { JOB_SETTINGS, mergeSettings, NOT_RECORDED, optionWords, recordSettings, withOptions } from '../../src/cli/job-settings.js';
import { commandOptions, isRepeatable } from '../../src/cli/parse-args.js';

describe('job settings (what --resume restores)', () => {
  it('classifies every rebuild flag: a new flag must say whether --resume restores it', () => {
    const unclassified = commandOptions('rebuild').filter((name) => !(name in JOB_SETTINGS) && !NOT_RECORDED.has(name));
    expect(unclassified).toEqual([]);
  });

  it('records the job flags only, and restores those not given again', () => {
    const started = [
      { name: 'out', value: 'thumbs' },
      { name: 'variant', value: 'a=10x10' },
      { name: 'allow-host', value: '127.0.0.1:1' },
      { name: 'json', value: undefined },
      { name: 'concurrency', value: '2' },
    ];
    const recorded = recordSettings(started).map(([name, value]) => ({ name, value: value ?? undefined }));
    expect(recorded.map((o) => o.name)).toEqual(['variant', 'allow-host', 'concurrency']);
    const merged = mergeSettings(recorded, [{ name: 'out', value: 'thumbs' }, { name: 'concurrency', value: '8' }, { name: 'resume', value: undefined }]);
    expect(optionWords(merged)).toEqual(['--out', 'thumbs', '--concurrency', '8', '--resume', '--variant', 'a=10x10', '--allow-host', '127.0.0.1:1']);
    expect(() => mergeSettings(recorded, [{ name: 'variant', value: 'b=5x5' }])).toThrow(/started with --variant a=10x10, not --variant b=5x5/);
  });

  it('adds options for a printed command: repeatable ones accumulate, others are replaced', () => {
    const base = [{ name: 'allow-host', value: 'a:1' }, { name: 'max-bytes', value: '100' }];
    expect(optionWords(withOptions(base, [{ name: 'allow-host', value: 'b:2' }, { name: 'max-bytes', value: '900' }, { name: 'allow-host', value: 'a:1' }], isRepeatable))).toEqual([
      '--allow-host', 'a:1', '--allow-host', 'b:2', '--max-bytes', '900',
    ]);
    // A value starting with a dash cannot be mistaken for an option.
    expect(optionWords([{ name: 'variant', value: '-x=1x1' }])).toEqual(['--variant=-x=1x1']);
  });
});
