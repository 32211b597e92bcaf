/** Runs the BUILT command line (the `rethumb` bin, `dist/cli/bin.cjs`, built by `npm test`) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

/** The bin under test; `RETHUMB_TEST_CLI` points the CLI tests at another build (e.g. the one before a fix). */
export const CLI = process.env.RETHUMB_TEST_CLI ?? fileURLToPath(new URL('../../dist/cli/bin.cjs', import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Written to the child's stdin, then closed. */
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  /** Working directory. @default this process's */
  cwd?: string;
  /** Run as this user and group id (root only), e.g. to meet a permission error as root. */
  uid?: number;
  /** Kill the child after this long (a bound, never expected). @default 25_000 */
  timeoutMs?: number;
  /** Start it as the leader of its own process group, so `process.kill(-pid, …)` signals it with its workers, as Ctrl-C does. @default false */
  detached?: boolean;
}

/** Start the CLI; `done` resolves when it exits. */
export function startCli(args: readonly string[], options: CliOptions = {}): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: options.detached ?? false,
    ...(options.cwd ? { cwd: options.cwd } : {}),
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
  if (options.stdin !== undefined) child.stdin!.end(options.stdin);
  else child.stdin!.end();
  return { child, done: collect(child, options.timeoutMs) };
}

/** Run a command line the CLI printed, exactly as printed, in a POSIX shell. */
export function runPrinted(command: string, options: { cwd: string; timeoutMs?: number }): Promise<CliRun> {
  return startPrinted(command, options).done;
}

/**
 * Start a printed command line exactly as printed, in a POSIX shell that `exec`s it, so a signal
 * sent to `child` reaches rethumb as a user's Ctrl-C would.
 */
export function startPrinted(command: string, options: { cwd: string; timeoutMs?: number }): { child: ChildProcess; done: Promise<CliRun> } {
  const child = spawn('sh', ['-c', `exec ${command}`], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  return { child, done: collect(child, options.timeoutMs) };
}

/** The child's output and how it ended; it is killed after `timeoutMs` (a bound, never expected). */
function collect(child: ChildProcess, timeoutMs = 25_000): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** The command printed on the line after `heading` (indented), e.g. after "to continue, run:". */
export function printedCommand(stdout: string, heading: string): string | undefined {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.includes(heading));
  return at === -1 ? undefined : lines[at + 1]?.trim();
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  return startCli(args, options).done;
}

/** The non-empty lines of a JSON Lines file, parsed. */
export async function readJsonLinesFile<T = Record<string, unknown>>(path: string): Promise<T[]> {
  const text = await readFile(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** Complete record lines of a journal (what a crash left durable). */
export async function journalEntries(path: string): Promise<Array<{ i: number; o: string }>> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((line) => line.startsWith('{"i":'))
    .map((line) => JSON.parse(line) as { i: number; o: string });
}

/** Whether this system has Linux's `/proc` (the process checks below need it). */
export const HAS_PROC = (() => {
  try {
    readdirSync('/proc/self/task');
    return true;
  } catch {
    return false;
  }
})();

/** Threads of a live process (Linux `/proc`). */
export function threadsOf(pid: number): number {
  return readdirSync(`/proc/${pid}/task`).length;
}

/** The live children of `pid` (Linux `/proc`). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state, then the parent's pid.
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(ppid) === pid && state !== 'Z') children.push(Number(name));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

/** Whether `pid` is a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
