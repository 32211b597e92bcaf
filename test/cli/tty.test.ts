/**
 * Issue 13, point 8: Ctrl-C on a terminal does not garble the summary. The built bin runs on a
 * real pseudo-terminal (util-linux `script`), is interrupted with SIGINT mid-run, and the screen
 * a user would see is rebuilt from the bytes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../regenerator/support.js';
import { fixture, type Fixture } from './fixture.js';
import { screen } from './screen.js';
import { CLI, journalEntries } from './support.js';
import { shellQuote } from '../../src/cli/command-line.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

describe.skipIf(!hasScript)('on a terminal', () => {
  it('Ctrl-C prints its notice and the summary on lines of their own, the bar cleared', async () => {
    const f = await fixture({ count: 60, delayMs: 80, route: (i, photo) => (i === 1 ? { kind: 'status', status: 404 } : photo) });
    open.push(f);
    const pidFile = join(f.dir, 'pid');
    // A malformed line too: it is printed while the bar runs.
    const manifest = join(f.dir, 'm.jsonl');
    const lines = (await readFile(f.manifest, 'utf8')).trimEnd().split('\n');
    lines.splice(3, 0, '{"not json');
    await import('node:fs/promises').then((fs) => fs.writeFile(manifest, `${lines.join('\n')}\n`));
    const command = ['exec', process.execPath, CLI, 'rebuild', manifest, ...f.args, '--concurrency', '2'].map(shellQuote).join(' ');
    const child = spawn('script', ['-qefc', `echo $$ > ${shellQuote(pidFile)}; ${command}`, '/dev/null'], { env: { ...process.env, TERM: 'xterm', COLUMNS: '120' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const journal = join(f.out, '.rethumb', 'journal.jsonl');
    expect(await until(async () => (await journalEntries(journal)).length >= 4, 20_000)).toBe(true);
    process.kill(Number((await readFile(pidFile, 'utf8')).trim()), 'SIGINT');
    expect(await exited).toBe(130);

    const shown = screen(output).filter((l) => l !== '');
    const notice = shown.indexOf('rethumb: SIGINT: taking no new records; finishing those in flight (Ctrl-C again to abandon them)');
    expect(notice, shown.join('\n')).toBeGreaterThanOrEqual(0);
    expect(shown).toContain(`${manifest}:4: not valid JSON, skipped`);
    const summary = shown.findIndex((l) => /^rethumb rebuild: \d+ records in /.test(l));
    expect(summary, shown.join('\n')).toBeGreaterThan(notice);
    expect(shown[summary + 1]).toMatch(/^ {2}regenerated \d+, stored 0, mirror 0, derived 0, placeholder 1$/);
    expect(shown.at(-2)).toBe('  interrupted: to continue, run:');
    expect(shown.at(-1)).toMatch(/ rebuild .* --resume$/);
    // No bar left on the screen, and nothing written over another line.
    expect(shown.filter((l) => /ETA/.test(l))).toEqual([]);
  });
});
