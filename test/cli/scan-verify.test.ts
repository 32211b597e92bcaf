/**
 * `rethumb scan --verify` and `rethumb rebuild --verify`, as a user runs them: files damaged on
 * disk are listed, the printed repair command refetches exactly those (although their files
 * exist), and `rebuild --verify` heals damage in the same pass.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { damage } from '../helpers/damage.js';
import { fixture, type Fixture } from './fixture.js';
import { readJsonLinesFile, runCli, runPrinted } from './support.js';

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

async function damageFile(file: string, how: Parameters<typeof damage>[0]): Promise<void> {
  const body = await readFile(file);
  await writeFile(file, damage(how, body, 'webp', Buffer.from('not an image')));
}

/** `--out DIR` and the variants: scan needs no `--allow-host`. */
const scanArgs = (f: Fixture) => f.args.filter((a, i, all) => a !== '--allow-host' && all[i - 1] !== '--allow-host');

describe('rethumb scan --verify', () => {
  it('says how the files written before checksums were checked: by structure, or decoded with --decode', async () => {
    const f = await fixture({ count: 2 });
    open.push(f);
    expect((await runCli(['rebuild', f.manifest, ...f.args, '--quiet'])).code).toBe(0);
    // Re-encoded without a seal, as rethumb wrote entries before checksums existed.
    const file = join(f.out, 'r/0/small.webp');
    await writeFile(file, await sharp(await readFile(file)).webp().toBuffer());
    const quick = await runCli(['scan', f.manifest, ...scanArgs(f), '--verify']);
    expect(quick.stdout).toContain('written before checksums: 1 files (checked by structure only; --decode checks them fully)');
    const full = await runCli(['scan', f.manifest, ...scanArgs(f), '--decode']);
    expect(full.stdout).toContain('written before checksums: 1 files (no checksum to check: decoded in full)');
  });

  it('lists files damaged on disk, and the printed repair command refetches exactly those', async () => {
    const f = await fixture({ count: 8 });
    open.push(f);
    expect((await runCli(['rebuild', f.manifest, ...f.args, '--quiet'])).code).toBe(0);
    await damageFile(join(f.out, 'r/1/small.webp'), 'truncated 99%');
    await damageFile(join(f.out, 'r/3/large.webp'), 'zeroed tail');
    await damageFile(join(f.out, 'r/5/small.webp'), 'flipped byte');
    f.origin.resetCounts();

    // Without --verify a scan only asks whether the files exist.
    const quick = await runCli(['scan', f.manifest, ...scanArgs(f), '--json']);
    expect(JSON.parse(quick.stdout.trim())).toMatchObject({ counts: { present: 8, damaged: 0 }, verified: false });
    // Without --list the summary says how to get the repair command.
    const unlisted = await runCli(['scan', f.manifest, ...scanArgs(f), '--verify']);
    expect(unlisted.stdout).toContain('damaged 3');
    expect(unlisted.stdout).toContain('to repair them: add --list FILE');
    expect(unlisted.stdout).not.toContain('repair: ');

    const list = join(f.dir, 'damaged.jsonl');
    const run = await runCli(['scan', f.manifest, ...scanArgs(f), '--verify', '--list', list]);
    expect(run.code).toBe(0);
    expect(f.origin.hits()).toBe(0);
    expect(run.stdout).toContain('8 records, read and checked');
    expect(run.stdout).toContain('present 5, missing 0, degraded 0, damaged 3, invalid 0');
    expect(run.stdout).toContain('variant files missing: 0, degraded: 0, damaged: 3');
    // Progress (plain lines when not on a TTY; the last state is printed when the scan ends).
    expect(run.stderr).toMatch(/scan: 8(\/8 100\.0%)? \| .+ \| ETA .+ \| present 5 damaged 3/);
    const listed = await readJsonLinesFile<{ key: string; scan: { status: string; damaged: string[]; damage: Record<string, string> } }>(list);
    expect(listed.map((r) => [r.key, r.scan.status, r.scan.damaged])).toEqual([
      ['r/1', 'damaged', ['small']],
      ['r/3', 'damaged', ['large']],
      ['r/5', 'damaged', ['small']],
    ]);
    expect(listed.map((r) => Object.values(r.scan.damage)[0])).toEqual(['truncated', 'structure', 'checksum']);

    // Paste the printed command as printed: it fetches as the store's last rebuild did (its
    // journal recorded --allow-host for this test's loopback origin; scan has no such flag).
    const repair = /repair: (.+)/.exec(run.stdout)?.[1];
    expect(repair).toMatch(new RegExp(` rebuild ${list} --out ${f.out} --variant small=48x48:cover --variant large=120x --allow-host ${f.origin.host}$`));
    const fix = await runPrinted(`${repair} --json`, { cwd: f.dir });
    expect(fix.code, fix.stderr).toBe(0);
    expect(JSON.parse(fix.stdout.trim())).toMatchObject({ total: 3, counts: { regenerated: 3, stored: 0 } });
    expect(f.origin.hits()).toBe(3);

    const after = await runCli(['scan', f.manifest, ...scanArgs(f), '--decode', '--json']);
    expect(JSON.parse(after.stdout.trim())).toMatchObject({ counts: { present: 8, damaged: 0 }, variantsDamaged: 0, verified: true, decoded: true });
  }, 90_000);

  it('without --variant, --format or --quality, looks for what the store\'s last rebuild wrote, and its repair writes that', async () => {
    const f = await fixture({ count: 4 });
    open.push(f);
    // The store was built as jpeg with its own variants; the operator scans it without saying so.
    const built = ['--out', f.out, '--variant', 'thumb=40x40:cover', '--format', 'jpeg', '--allow-host', f.origin.host];
    expect((await runCli(['rebuild', f.manifest, ...built, '--quiet'])).code).toBe(0);
    await damageFile(join(f.out, 'r/2/thumb.jpg'), 'truncated 50%');
    f.origin.resetCounts();
    const list = join(f.dir, 'damaged.jsonl');
    const run = await runCli(['scan', f.manifest, '--out', f.out, '--verify', '--list', list]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("as the store's last rebuild wrote them: --variant thumb=40x40:cover --format jpeg");
    expect(run.stdout).toContain('present 3, missing 0, degraded 0, damaged 1, invalid 0');
    const repair = /repair: (.+)/.exec(run.stdout)?.[1];
    const fix = await runPrinted(`${repair} --json`, { cwd: f.dir });
    expect(fix.code, fix.stderr).toBe(0);
    expect(JSON.parse(fix.stdout.trim())).toMatchObject({ total: 1, counts: { regenerated: 1 } });
    expect(f.origin.hits()).toBe(1);
    expect(await readdir(join(f.out, 'r/2'))).toEqual(['thumb.jpg']);
    // Output settings given on the command line win (all of them: none is taken from the journal).
    const asked = await runCli(['scan', f.manifest, '--out', f.out, '--format', 'webp', '--json']);
    expect(JSON.parse(asked.stdout.trim())).toMatchObject({ counts: { present: 0, missing: 4 } });
  }, 90_000);

  it('rebuild --verify rebuilds damaged entries in the same pass as missing ones', async () => {
    const f = await fixture({ count: 6 });
    open.push(f);
    expect((await runCli(['rebuild', f.manifest, ...f.args, '--quiet'])).code).toBe(0);
    await damageFile(join(f.out, 'r/0/large.webp'), 'truncated 50%');
    await damageFile(join(f.out, 'r/4/small.webp'), 'random bytes');
    await writeFile(join(f.out, 'r/2/small.webp'), '');
    f.origin.resetCounts();

    const plain = await runCli(['rebuild', f.manifest, ...f.args, '--json']);
    expect(JSON.parse(plain.stdout.trim())).toMatchObject({ counts: { stored: 6, regenerated: 0 } });
    const verified = await runCli(['rebuild', f.manifest, ...f.args, '--verify', '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout.trim())).toMatchObject({ counts: { stored: 3, regenerated: 3 } });
    expect(f.origin.hits()).toBe(3);
    const scan = await runCli(['scan', f.manifest, ...scanArgs(f), '--verify', '--json']);
    expect(JSON.parse(scan.stdout.trim())).toMatchObject({ counts: { present: 6, damaged: 0 } });
  }, 90_000);
});
