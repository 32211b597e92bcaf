import { describe, expect, it } from 'vitest';
import { runCli } from './support.js';

describe('rethumb: help, version and usage errors', () => {
  it.each(['rebuild', 'scan', 'estimate'])('prints the help of `%s` and exits 0', async (command) => {
    const run = await runCli([command, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: rethumb ${command} MANIFEST --out DIR`);
    expect(run.stdout).toContain('Exit codes:');
  });

  it('prints the main help with every command', async () => {
    const run = await runCli(['--help']);
    expect(run.code).toBe(0);
    for (const command of ['rebuild', 'scan', 'estimate']) expect(run.stdout).toContain(command);
  });

  it('prints the version', async () => {
    const run = await runCli(['--version']);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each([
    [[], 'a command'],
    [['frobnicate'], 'Unknown command'],
    [['rebuild', '--out', 'x'], 'MANIFEST'],
    [['rebuild', 'm.jsonl'], '--out'],
    [['rebuild', 'm.jsonl', '--out', 'x', '--bogus'], 'bogus'],
    [['rebuild', 'm.jsonl', '--out', 'x', '--variant', 'small'], '--variant'],
    [['rebuild', 'm.jsonl', '--out', 'x', '--concurrency', 'lots'], '--concurrency'],
    [['rebuild', 'm.jsonl', '--out', 'x', '--quiet', '--json'], '--quiet'],
    [['estimate', '-', '--out', 'x'], 'stdin'],
    [['scan', 'm.jsonl', '--out', 'x', '--sample', '3'], 'sample'],
  ])('exits 2 for %j', async (args, hint) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(hint);
    expect(run.stdout).toBe('');
  });

  it('exits 2 for an option value the regenerator refuses (RETHUMB_CONFIG)', async () => {
    const run = await runCli(['rebuild', 'm.jsonl', '--out', 'x', '--concurrency', '0']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('concurrency');
  });

  it.each([
    [['--per-host', '0'], 'rethumb: Expected --per-host to be an integer from 1 to 1000, got `0`'],
    [['--variant', 'small=0x10'], 'rethumb: Expected the width of --variant small to be an integer from 1 to 8192, got `0`'],
    [['--allow-host', 'http://x'], 'rethumb: Expected --allow-host to be a `host` or `host:port` string (no scheme, path or credentials), got `http://x`'],
  ])('names the flag, not the library option, of a refused value: %j', async (flags, message) => {
    const run = await runCli(['rebuild', 'm.jsonl', '--out', 'x', ...flags]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${message}\n`);
  });

  it('exits 2 when the manifest does not exist', async () => {
    const run = await runCli(['scan', '/nonexistent/manifest.jsonl', '--out', '/tmp/rethumb-nonexistent-out', '--quiet']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('rethumb: cannot read the manifest /nonexistent/manifest.jsonl: no such file or directory (check the path; "-" reads stdin)\n');
  });
});
