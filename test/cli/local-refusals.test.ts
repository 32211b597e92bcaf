/**
 * Issue 13, point 2: a refusal caused by rethumb's own configuration (the address policy, SVG
 * without --allow-svg) is not the source's failure: never in the failure memory, never "on
 * hold" at the next run — the run with the right flags fetches every record at once.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { fixture, VARIANT_ARGS, type Fixture } from './fixture.js';
import { printedCommand, runCli, runPrinted } from './support.js';

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

const SVG = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100" fill="teal"/></svg>');

async function remembered(f: Fixture): Promise<string[]> {
  const text = await readFile(join(f.out, '.rethumb', 'failures.jsonl'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { k: string }).k);
}

describe('refusals by our own configuration are not remembered', () => {
  it('after a run without --allow-host, the run with it fetches every record at once (none on hold)', async () => {
    const f = await fixture({ count: 6, route: (i, photo) => (i === 5 ? { kind: 'status', status: 404 } : photo) });
    open.push(f);
    const refused = await runCli(['rebuild', f.manifest, '--out', f.out, ...VARIANT_ARGS, '--json']);
    expect(JSON.parse(refused.stdout)).toMatchObject({ counts: { placeholder: 6 }, fallbackClasses: { local: 6, permanent: 0 } });
    expect(await remembered(f)).toEqual([]);

    const allowed = await runCli(['rebuild', f.manifest, ...f.args, '--json']);
    const summary = JSON.parse(allowed.stdout);
    expect(summary).toMatchObject({ counts: { regenerated: 5, placeholder: 1 }, onHold: 0, fallbackClasses: { permanent: 1, local: 0 } });
    expect(Object.keys(summary.fallbackReasons)).toEqual([ErrorCodes.HTTP_STATUS]);
    expect(f.origin.hits()).toBe(6);
    // The 404 is the source's failure: remembered, and on hold at the next run.
    expect(await remembered(f)).toEqual(['r/5']);
    const again = JSON.parse((await runCli(['rebuild', f.manifest, ...f.args, '--json'])).stdout);
    expect(again).toMatchObject({ onHold: 1, fallbackReasons: { [ErrorCodes.RECENTLY_FAILED]: { count: 1 } } });
  });

  it('a redirect to a refused host: the advice names that host, and its printed command renders the record', async () => {
    // The record's own host is allowed; it redirects to another loopback address, which is not.
    let photo: Buffer = Buffer.alloc(0);
    const target = createServer((_req, res) => res.writeHead(200, { 'content-type': 'image/jpeg' }).end(photo));
    await new Promise<void>((resolve) => target.listen(0, '127.0.0.2', resolve));
    const refusedHost = `127.0.0.2:${(target.address() as AddressInfo).port}`;
    const f = await fixture({ count: 2, route: (i, image) => (i === 0 ? { kind: 'redirect', location: `http://${refusedHost}/a.jpg` } : image) });
    open.push(f, { close: () => new Promise<void>((resolve) => target.close(() => resolve())) } as Fixture);
    photo = f.photo;
    const refused = await runCli(['rebuild', f.manifest, ...f.args]);
    expect(refused.stdout).toMatch(new RegExp(`^ +1 {2}RETHUMB_FORBIDDEN_ADDRESS: .*; ${refusedHost.replaceAll('.', '\\.')}$`, 'm'));
    const command = printedCommand(refused.stdout, `If you trust ${refusedHost}, run again with --allow-host:`);
    expect(command).toContain(`--allow-host ${refusedHost}`);
    const accepted = await runPrinted(command!, { cwd: f.dir });
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(/regenerated 1, stored 1, mirror 0, derived 0, placeholder 0/);
  });

  it('an SVG refused without --allow-svg is not remembered; the printed command with --allow-svg renders it', async () => {
    const f = await fixture({ count: 2, route: (i, photo) => (i === 0 ? { kind: 'image', body: SVG, contentType: 'image/svg+xml' } : photo) });
    open.push(f);
    const refused = await runCli(['rebuild', f.manifest, ...f.args]);
    expect(refused.stdout).toMatch(/^ +1 {2}RETHUMB_UNSUPPORTED_FORMAT: /m);
    expect(await remembered(f)).toEqual([]);
    const command = printedCommand(refused.stdout, 'To accept SVG:');
    expect(command).toMatch(/ --allow-svg$/);
    const accepted = await runPrinted(command!, { cwd: f.dir });
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toMatch(/regenerated 1, stored 1, mirror 0, derived 0, placeholder 0/);
  });
});
