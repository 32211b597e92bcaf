/**
 * Issue 13, point 1: every summary (text and JSON, rebuild and estimate) counts fallbacks per
 * reason, and says what to do in command-line terms — with a command that works when pasted.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { fixture, VARIANT_ARGS, type Fixture } from './fixture.js';
import { runCli } from './support.js';

const sh = promisify(execFile);
const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

async function setup(options: Parameters<typeof fixture>[0]): Promise<Fixture> {
  const f = await fixture(options);
  open.push(f);
  return f;
}

/** The lines after `what to do:` that are a command (indented under it). */
function adviceCommand(stdout: string): string {
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith('  what to do:'));
  expect(start, stdout).toBeGreaterThanOrEqual(0);
  const command = lines.slice(start + 1).find((l) => l.startsWith('      '));
  expect(command, stdout).toBeDefined();
  return command!.trim();
}

describe('fallbacks per reason, and what to do', () => {
  it('a run refused by the address policy says so, names the host, and prints a command that fixes it', async () => {
    const f = await setup({ count: 6 });
    const run = await runCli(['rebuild', f.manifest, '--out', f.out, ...VARIANT_ARGS]);
    expect(run.code).toBe(0);
    expect(f.origin.hits()).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^ +6 {2}RETHUMB_FORBIDDEN_ADDRESS: .*${f.origin.host.replaceAll('.', '\\.')}$`, 'm'));
    const command = adviceCommand(run.stdout);
    expect(command).toContain(`--allow-host ${f.origin.host}`);
    // The advice is a command that works when pasted: every record is regenerated.
    const { stdout } = await sh('sh', ['-c', command], { cwd: f.dir });
    expect(stdout).toMatch(/regenerated 6, stored 0, mirror 0, derived 0, placeholder 0/);
    expect(f.origin.hits()).toBe(6);
  });

  it('--json has the same counts per reason, the hosts, and the advice with its command', async () => {
    const f = await setup({ count: 5, route: (i, photo) => (i < 3 ? { kind: 'status', status: 404 } : photo) });
    const run = await runCli(['rebuild', f.manifest, '--out', f.out, ...VARIANT_ARGS, '--json']);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.fallbackReasons).toEqual({
      [ErrorCodes.FORBIDDEN_ADDRESS]: { count: 5, hosts: { [f.origin.host]: 5 }, otherHosts: 0, refusedBy: {} },
    });
    expect(summary.advice).toEqual([
      expect.objectContaining({ reason: ErrorCodes.FORBIDDEN_ADDRESS, command: expect.stringContaining(`--allow-host ${f.origin.host}`) }),
    ]);

    // With the host allowed: 3 gone (404, dominant: advice without a command), 2 regenerated.
    const allowed = await runCli(['rebuild', f.manifest, ...f.args, '--json']);
    const second = JSON.parse(allowed.stdout);
    expect(second.counts).toMatchObject({ regenerated: 2, placeholder: 3 });
    expect(second.fallbackReasons).toEqual({ [ErrorCodes.HTTP_STATUS]: { count: 3, hosts: { [f.origin.host]: 3 }, otherHosts: 0, refusedBy: {} } });
    expect(second.advice).toEqual([expect.objectContaining({ reason: ErrorCodes.HTTP_STATUS, message: expect.stringContaining('fallback report') })]);
  });

  it('--allow-private-networks turns the address policy off', async () => {
    const f = await setup({ count: 2 });
    const run = await runCli(['rebuild', f.manifest, '--out', f.out, ...VARIANT_ARGS, '--allow-private-networks', '--json']);
    expect(JSON.parse(run.stdout).counts).toMatchObject({ regenerated: 2 });
  });

  it('estimate counts the sample\'s fallbacks per reason and advises, in text and JSON', async () => {
    const f = await setup({ count: 8 });
    const json = await runCli(['estimate', f.manifest, '--out', f.out, ...VARIANT_ARGS, '--sample', '4', '--json']);
    expect(json.code).toBe(0);
    const estimate = JSON.parse(json.stdout);
    expect(estimate.fallbackReasons[ErrorCodes.FORBIDDEN_ADDRESS]).toMatchObject({ count: 4, hosts: { [f.origin.host]: 4 } });
    expect(estimate.advice[0].command).toMatch(/ estimate .* --allow-host /);
    const text = await runCli(['estimate', f.manifest, '--out', f.out, ...VARIANT_ARGS, '--sample', '4']);
    expect(text.stdout).toMatch(/^ +4 {2}RETHUMB_FORBIDDEN_ADDRESS: /m);
    expect(text.stdout).toContain('Most of the sample fell back');
    const { stdout } = await sh('sh', ['-c', adviceCommand(text.stdout)], { cwd: f.dir });
    expect(stdout).toMatch(/sample outcomes: regenerated 4,/);
  });

  it('estimate\'s advice sends no one to a fallback report (estimate writes none)', async () => {
    const f = await setup({ count: 4, route: () => ({ kind: 'status', status: 404 }) });
    const run = await runCli(['estimate', f.manifest, ...f.args, '--sample', '4', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const estimate = JSON.parse(run.stdout);
    expect(estimate.advice).toEqual([{ reason: ErrorCodes.HTTP_STATUS, message: expect.stringMatching(/^4 records failed at the origin/) }]);
    expect(estimate.advice[0].message).not.toContain('fallback report');
    expect(existsSync(join(f.out, '.rethumb', 'fallbacks.jsonl'))).toBe(false);
  });

  it('records that are malformed get "fix them in the manifest", and no retry command (a rerun fails them the same way)', async () => {
    const f = await setup({ count: 2 });
    const manifest = join(f.dir, 'malformed.jsonl');
    const lines = [
      { key: 'bad/url', url: 'not a url' },
      { key: 'bad/protocol', url: 'ftp://example.invalid/a.jpg' },
      { key: 'bad/long', url: `http://${f.origin.host}/${'a'.repeat(9000)}.jpg` },
    ];
    await writeFile(manifest, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const run = await runCli(['rebuild', manifest, ...f.args]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('placeholder 3');
    expect(run.stdout).toContain('fix them in the manifest');
    expect(run.stdout).not.toContain('retry the fallbacks');
    expect(f.origin.hits()).toBe(0);
    // With one record that can recover (a 503), the retry command is printed again.
    const mixed = join(f.dir, 'mixed.jsonl');
    await writeFile(mixed, `${JSON.stringify(lines[0])}\n${JSON.stringify({ key: 'gone', url: f.origin.urlFor('/missing.jpg') })}\n`);
    const again = await runCli(['rebuild', mixed, ...f.args]);
    expect(again.stdout).toContain('retry the fallbacks');
  });

  it('--help and the README say what the address policy refuses, and how to allow it', async () => {
    const help = await runCli(['rebuild', '--help']);
    expect(help.stdout).toMatch(/--allow-host HOST\[:PORT\]/);
    expect(help.stdout).toMatch(/--allow-private-networks/);
    expect(help.stdout).toMatch(/loopback.*private.*link-local/s);
  });
});
