/**
 * Commands the CLI prints for pasting ("continue with …", "retry them: …", "run again with …"):
 * the program as this user can run it, then every argument quoted for a POSIX shell. A printed
 * command must work when pasted, in the directory the user ran rethumb from.
 */
import { accessSync, constants, readFileSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `arg` as one POSIX shell word: bare when it is safe, else in single quotes. */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/**
 * A relative path as a command-line word that no parser takes for an option: `-m.jsonl` becomes
 * `./-m.jsonl` (`-` alone, stdin, stays).
 */
export function pathArg(path: string): string {
  return path.startsWith('-') && path !== '-' ? `./${path}` : path;
}

/** `program args…`, quoted for pasting. */
export function commandLine(args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  return [programName(env), ...args.map(shellQuote)].join(' ');
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let cached: string | undefined;

/**
 * How the user can start this rethumb again from their shell, in the directory they ran it from:
 * - `rethumb` when the `rethumb` on PATH is this package (a global install, or a PATH that
 *   includes the project's `node_modules/.bin`) — unless npm started us, since npm puts
 *   `node_modules/.bin` on PATH only for its own children;
 * - `npx rethumb` when this directory's project has this package in `node_modules/.bin`;
 * - otherwise `node /path/to/bin`, which works from anywhere.
 */
export function programName(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  if (cached !== undefined && env === process.env && cwd === process.cwd()) return cached;
  let name: string;
  if (env.npm_command === undefined && onPath('rethumb', env) !== undefined) name = 'rethumb';
  else if (inProjectBin(cwd)) name = 'npx rethumb';
  else name = `${onPath('node', env) === realpath(process.execPath) ? 'node' : shellQuote(process.execPath)} ${shellQuote(binPath())}`;
  if (env === process.env && cwd === process.cwd()) cached = name;
  return name;
}

/** Whether `npx rethumb` run in `cwd` finds this package: the nearest `node_modules/.bin/rethumb` up from `cwd` is ours. */
function inProjectBin(cwd: string): boolean {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const real = realpath(join(dir, 'node_modules', '.bin', 'rethumb'));
    if (real !== undefined) return isOurs(real);
    if (dirname(dir) === dir) return false;
  }
}

function isOurs(path: string): boolean {
  return path.startsWith(realpath(ROOT) ?? ROOT);
}

/** The real path of `command` on PATH when it is ours (inside this package, or this Node), else undefined. */
function onPath(command: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    const real = realpath(candidate);
    if (command === 'node') return real;
    return real !== undefined && isOurs(real) ? real : undefined;
  }
  return undefined;
}

/** The package's `rethumb` bin, as an absolute path. */
function binPath(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
    const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.rethumb;
    if (bin) return resolve(ROOT, bin);
  } catch {
    // Fall through to the script Node was started with.
  }
  return resolve(process.argv[1] ?? join(ROOT, 'dist/cli/bin.cjs'));
}

function realpath(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}
