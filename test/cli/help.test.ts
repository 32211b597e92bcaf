/**
 * Issue 13, point 8: every help text fits 80 columns and documents every option its command
 * accepts (new flags included), each command lists its own exit codes, and a mistyped option
 * or command names the nearest one.
 */
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandOptions } from '../../src/cli/parse-args.js';
import { runCli } from './support.js';

describe('--help', () => {
  it.each([['--help'], ...COMMANDS.map((c) => [c, '--help'])])('%j fits 80 columns', async (...args: string[]) => {
    const run = await runCli(args);
    expect(run.code).toBe(0);
    const long = run.stdout.split('\n').filter((line) => [...line].length > 80);
    expect(long).toEqual([]);
  });

  it.each(COMMANDS)('of %s documents every option it accepts', async (command) => {
    const { stdout } = await runCli([command, '--help']);
    const missing = commandOptions(command).filter((name) => !new RegExp(`--${name}\\b`).test(stdout));
    expect(missing).toEqual([]);
  });

  it('each command lists its own exit codes (only rebuild resumes)', async () => {
    const scan = (await runCli(['scan', '--help'])).stdout;
    const rebuild = (await runCli(['rebuild', '--help'])).stdout;
    expect(scan).toContain('Exit codes:');
    expect(scan).not.toContain('--resume');
    // scan fetches nothing: no record of it falls back.
    expect(scan).not.toContain('fell back');
    expect(scan).toMatch(/0 +done \(missing, degraded and damaged records are counted/);
    expect(rebuild).toMatch(/--resume\s+refused/);
    expect(rebuild).toContain('prints the command that continues the job');
  });

  it('documents the CSV syntax for several mirrors', async () => {
    const { stdout } = await runCli(['--help']);
    expect(stdout).toContain('key,url,mirrors,width,height,color');
    expect(stdout).toMatch(/https:\/\/b\.io\/42\.jpg\|https:\/\/c\.io\/42\.jpg/);
    expect(stdout).toContain('separated by | or spaces');
  });
});

describe('mistyped options and commands', () => {
  it.each([
    [['rebuild', 'm.jsonl', '--out', 'x', '--alow-host', 'h'], 'rethumb: Unknown option --alow-host for `rethumb rebuild`; did you mean --allow-host? (see `rethumb rebuild --help`)'],
    [['rebuild', 'm.jsonl', '--out', 'x', '--retry'], 'rethumb: Unknown option --retry for `rethumb rebuild`; did you mean --retry-degraded or --retry-failed? (see `rethumb rebuild --help`)'],
    [['rebuild', 'm.jsonl', '--out', 'x', '--list', 'l'], 'rethumb: --list is an option of `rethumb scan`, not of `rethumb rebuild` (see `rethumb rebuild --help`)'],
    [['rebuild', 'm.jsonl', '--out'], 'rethumb: --out needs a value (see `rethumb rebuild --help`)'],
    [['rebiuld', 'm.jsonl'], 'rethumb: Unknown command `rebiuld`; did you mean `rebuild`? expected rebuild, scan or estimate (see `rethumb --help`)'],
  ])('%j', async (args, message) => {
    const run = await runCli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`${message}\n`);
  });
});
