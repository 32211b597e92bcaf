#!/usr/bin/env node
// The first hour of a new user, scripted; `.ci/run` calls it after the tests (`npm ci` has built
// dist/). It packs the package as npm would publish it, checks what the tarball holds, installs
// it into a scratch project, and then uses the CLI there as a user does: against a loopback
// origin without --allow-host (everything refused, and the summary says why and what to type),
// then with the command it printed, Ctrl-C through a signal to the process group, and the
// "to continue" command pasted exactly as printed. Every step asserts what a user relies on.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'rethumb-walkthrough-'));
const project = join(work, 'project');
const started = Date.now();
/** @type {import('node:child_process').ChildProcess | undefined} */
let origin;

function step(title) {
  console.log(`\n--- ${title} (at ${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
function check(condition, what, detail = '') {
  if (!condition) throw new Error(`walkthrough: ${what}${detail ? `\n${detail}` : ''}`);
  console.log(`ok: ${what}`);
}
/** Run a command line in a shell, as typed; resolves with its exit code and output. */
function shell(command, { cwd = project, interruptAfter } = {}) {
  return new Promise((resolve, reject) => {
    // Its own process group, so "Ctrl-C" reaches every process of it (npx, node), as a terminal's would.
    const child = spawn('sh', ['-c', command], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    const limit = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), 180_000);
    let poll;
    if (interruptAfter) {
      let asking = false;
      poll = setInterval(async () => {
        if (asking) return;
        asking = true;
        if (await interruptAfter()) {
          clearInterval(poll);
          process.kill(-child.pid, 'SIGINT');
        }
        asking = false;
      }, 50);
    }
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(limit);
      clearInterval(poll);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
function run(file, args, options = {}) {
  return execFileSync(file, args, { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options });
}
/** The command printed on the line after `heading`. */
function printed(stdout, heading) {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.includes(heading));
  return at === -1 ? undefined : lines.slice(at + 1).find((l) => l.trim() !== '')?.trim();
}
/** Records journaled (finished) in OUT's journal. */
function journalEntries(out) {
  const path = join(project, out, '.rethumb', 'journal.jsonl');
  if (!existsSync(path)) return 0;
  const text = readFileSync(path, 'utf8');
  return text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter((l) => l.startsWith('{"i":')).length;
}

try {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

  step('npm pack --dry-run: what the tarball holds');
  const [dry] = JSON.parse(run('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT }).replace(/^[^[]*/, ''));
  const files = dry.files.map((f) => f.path);
  for (const required of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']) {
    check(files.includes(required), `the tarball holds ${required}`);
  }
  const bins = typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin);
  const targets = Object.values(pkg.exports).flatMap((e) => (typeof e === 'string' ? [e] : Object.values(e)));
  for (const target of [...bins, ...targets]) check(files.includes(target.replace(/^\.\//, '')), `the tarball holds ${target} (bin or export)`);
  const stray = files.filter((f) => f.endsWith('.map') || /^(src|test|examples|bench|scripts|docs|\.ci)\//.test(f));
  check(stray.length === 0, 'no source maps, sources, tests or tooling in the tarball', stray.join('\n'));

  step('npm pack, and the packed package.json');
  const tarball = join(work, run('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT }).trim().split('\n').at(-1));
  const packed = JSON.parse(run('tar', ['-xzOf', tarball, 'package/package.json'], { cwd: work }));
  const lifecycle = ['preinstall', 'install', 'postinstall', 'prepare'].filter((s) => packed.scripts?.[s] !== undefined);
  check(lifecycle.length === 0, 'the packed package.json has no install-time scripts (no prepare)', lifecycle.join(', '));
  check(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.prepare !== undefined, 'the repository keeps its prepare script (npm ci builds dist/)');

  step('install the tarball into a scratch project');
  rmSync(project, { recursive: true, force: true });
  run('mkdir', ['-p', project], { cwd: work });
  run('npm', ['init', '-y']);
  const install = await shell(`npm install ${JSON.stringify(tarball)} --no-audit --no-fund`);
  check(install.code === 0, 'npm install of the tarball succeeds', install.stderr);
  const warned = `${install.stdout}\n${install.stderr}`.split('\n').filter((l) => /scripts/i.test(l) && /rethumb/.test(l));
  check(warned.length === 0, 'npm does not warn about rethumb install scripts', warned.join('\n'));

  step('import, require and the bin');
  const esm = run('node', ['--input-type=module', '-e', "import { createRegenerator } from 'rethumb'; import { startTestOrigin } from 'rethumb/testing'; console.log(typeof createRegenerator, typeof startTestOrigin)"]);
  check(esm.trim() === 'function function', "import from 'rethumb' and 'rethumb/testing'");
  const cjs = run('node', ['-e', "const { createRegenerator } = require('rethumb'); console.log(typeof createRegenerator)"]);
  check(cjs.trim() === 'function', "require('rethumb')");
  check(run('npx', ['rethumb', '--version']).trim() === pkg.version, `npx rethumb --version prints ${pkg.version}`);
  check(run('npx', ['rethumb', 'rebuild', '--help']).includes('--allow-host HOST[:PORT]'), 'npx rethumb rebuild --help documents --allow-host');
  const missing = await shell('npx rethumb rebuild nothing-here.jsonl --out thumbs');
  check(missing.code === 2 && missing.stderr.trim().split('\n').length === 1, 'a missing manifest: one line, exit 2', missing.stderr);

  step('a loopback origin and a manifest (paths with spaces)');
  writeFileSync(
    join(project, 'origin.mjs'),
    `import sharp from 'sharp';
import { startTestOrigin } from 'rethumb/testing';
const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#3a6ea5', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();
const routes = { '/__hits': { kind: 'handler', handle: (_req, res) => res.end(String(origin.hits() - origin.hits('/__hits'))) } };
for (let n = 0; n < 40; n++) routes['/photos/' + n + '.jpg'] = { kind: 'image', body: photo, contentType: 'image/jpeg', delayMs: 120 };
const origin = await startTestOrigin({ routes });
console.log(origin.url);
`,
  );
  origin = spawn('node', ['origin.mjs'], { cwd: project, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    origin.stdout.setEncoding('utf8').once('data', (d) => resolve(d.trim()));
    origin.once('exit', () => reject(new Error('the origin did not start')));
  });
  const host = new URL(url).host;
  const hits = async () => Number(await (await fetch(`${url}/__hits`)).text());
  // Records 7 and 19 are gone (404): every other one must end up with real thumbnails.
  const gone = new Set([7, 19]);
  const records = Array.from({ length: 40 }, (_, n) => ({ key: `photos/${n}`, url: `${url}/${gone.has(n) ? 'gone' : 'photos'}/${n}.jpg` }));
  writeFileSync(join(project, 'my photos.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  const flags = "--variant small=64x64:cover --variant large=200x --format jpeg --concurrency 2";

  step('first run, without --allow-host: refused, and the summary says why and what to type');
  const refused = await shell(`npx rethumb rebuild 'my photos.jsonl' --out 'my thumbs' ${flags}`);
  check(refused.code === 0, 'exit 0 (fallbacks are not errors)', refused.stderr);
  check(/^ +40 {2}RETHUMB_FORBIDDEN_ADDRESS: /m.test(refused.stdout), 'the summary counts 40 RETHUMB_FORBIDDEN_ADDRESS', refused.stdout);
  const fix = printed(refused.stdout, `--allow-host:`);
  check(fix?.startsWith('npx rethumb rebuild ') && fix.endsWith(`--allow-host ${host}`), `it prints the command with --allow-host ${host}`, refused.stdout);
  check((await hits()) === 0, 'the origin saw no request');
  const failures = join(project, 'my thumbs', '.rethumb', 'failures.jsonl');
  check(!existsSync(failures) || readFileSync(failures, 'utf8').trim() === '', 'nothing is remembered as a failure (the refusal was our own policy)');

  step('the printed command, interrupted by Ctrl-C (SIGINT to its process group)');
  // Once a few records are done (the origin answered them), as a user watching the bar would.
  const interrupted = await shell(fix, { interruptAfter: async () => (await hits()) >= 8 });
  const resume = printed(interrupted.stdout, 'to continue, run:');
  check(resume === "npx rethumb rebuild 'my photos.jsonl' --out 'my thumbs' --resume", 'it prints how to continue, quoted for the shell', `${interrupted.stdout}\n${interrupted.stderr}`);
  const done = journalEntries('my thumbs');
  check(done >= 6 && done < 40, `it stopped midway (${done} of 40 records journaled)`);
  check(/rethumb: SIGINT: taking no new records/.test(interrupted.stderr), 'it said it was stopping');

  step('the "to continue" command, pasted exactly as printed');
  const resumed = await shell(resume);
  check(resumed.code === 0, 'exit 0', resumed.stderr);
  check(/^rethumb rebuild: 40 records /m.test(resumed.stdout), 'one summary over both runs: 40 records', resumed.stdout);
  check(/regenerated 38, stored 0, mirror 0, derived 0, placeholder 2/.test(resumed.stdout), '38 regenerated with the first run\'s flags, 2 placeholders (gone)', resumed.stdout);
  check(/^ +2 {2}RETHUMB_HTTP_STATUS: /m.test(resumed.stdout), 'the 2 fallbacks counted as RETHUMB_HTTP_STATUS');
  check(/resumed: \d+ records were finished by earlier runs/.test(resumed.stdout), 'it says how many records earlier runs finished');
  const retry = printed(resumed.stdout, 'retry the fallbacks once their sources are back:');
  check(retry?.includes('--retry-failed') && retry.includes('--format jpeg'), 'the retry command carries the flags and --retry-failed', retry);
  check((await hits()) <= 38 + 2, `the origin was not asked twice for finished records (${await hits()} requests)`);

  step('what the user relies on: the thumbnails and the fallback report');
  const sizes = run('node', [
    '--input-type=module',
    '-e',
    `import sharp from 'sharp'; const out = [];
for (let n = 0; n < 40; n++) { if (n === 7 || n === 19) continue;
  const s = await sharp('my thumbs/photos/' + n + '/small.jpg').metadata(); const l = await sharp('my thumbs/photos/' + n + '/large.jpg').metadata();
  out.push(s.format + ' ' + s.width + 'x' + s.height + ' ' + l.width); }
console.log(JSON.stringify([...new Set(out)]));`,
  ]);
  check(sizes.trim() === JSON.stringify(['jpeg 64x64 200']), 'all 38 records have a 64x64 small.jpg and a 200-wide large.jpg', sizes);
  const fallbacks = readFileSync(join(project, 'my thumbs', '.rethumb', 'fallbacks.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  check(JSON.stringify(fallbacks.map((f) => f.key).sort()) === JSON.stringify(['photos/19', 'photos/7']), 'the fallback report lists exactly the 2 gone records');

  step(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} finally {
  origin?.kill();
  rmSync(work, { recursive: true, force: true });
}
