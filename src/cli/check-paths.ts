/**
 * The paths a command was given, checked before any work: a missing manifest, an `--out` that is
 * a file or not writable, a report that cannot be written are the user's input, reported in one
 * line with what to do (exit 2), instead of failing minutes later with a stack trace.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError } from './usage-error.js';

/**
 * MANIFEST must be a readable file (or a pipe); `-` is stdin, which, on a terminal, waits for
 * typing: `stdinIsTTY` says so rather than seeming to hang.
 */
export async function checkManifest(path: string, io?: { stderr: NodeJS.WritableStream; stdinIsTTY?: boolean }): Promise<void> {
  if (path === '-') {
    if (io?.stdinIsTTY) io.stderr.write('rethumb: reading the manifest from the terminal: type or paste its lines, then Ctrl-D (or pass a file)\n');
    return;
  }
  let kind;
  try {
    kind = await stat(path);
  } catch (error) {
    throw new UsageError(`cannot read the manifest ${path}: ${why(error)} (check the path; "-" reads stdin)`);
  }
  if (kind.isDirectory()) throw new UsageError(`the manifest ${path} is a directory; pass a JSON Lines or CSV file`);
  try {
    await (await open(path, 'r')).close();
  } catch (error) {
    throw new UsageError(`cannot read the manifest ${path}: ${why(error)}`);
  }
}

/**
 * `--out DIR` must be a directory this process can write: created when missing (unless
 * `create` is false, for `scan`, which only reads).
 */
export async function checkOutDir(path: string, create: boolean): Promise<void> {
  const what = `--out ${path}`;
  try {
    const kind = await stat(path);
    if (!kind.isDirectory()) throw new UsageError(`${what} is a file, not a directory; pass a directory (it is created if missing)`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new UsageError(`${what}: a part of the path is a file, not a directory`);
    if (code !== 'ENOENT') throw new UsageError(`cannot use ${what}: ${why(error)}`);
    if (!create) return;
    try {
      await mkdir(path, { recursive: true });
    } catch (mkdirError) {
      throw new UsageError(`cannot create ${what}: ${why(mkdirError)} (choose a directory you can write to)`);
    }
  }
  if (!create) return;
  try {
    await access(path, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new UsageError(`cannot write to ${what}: ${why(error)} (choose a directory you can write to)`);
  }
}

/**
 * A file the command will write (`--report`, `--list`): its directory must exist or be creatable,
 * and be writable; and it must not be `manifest`, the file the command reads (a scan's list is
 * itself a manifest, so `scan LIST --list LIST` is an easy slip: it emptied LIST before reading it).
 */
export async function checkOutputFile(option: string, path: string, manifest?: string): Promise<void> {
  if (path === '-') return;
  const what = `${option} ${path}`;
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) throw new UsageError(`${what} is a directory; pass a file name`);
  if (manifest !== undefined && manifest !== '-') {
    const read = await stat(manifest).catch(() => undefined);
    // The same path, or another name of the same file (a link).
    const same = resolve(path) === resolve(manifest) || (existing !== undefined && read !== undefined && existing.dev === read.dev && existing.ino === read.ino);
    if (same) throw new UsageError(`${what} is the manifest this command reads; pass another file`);
  }
  const dir = dirname(path);
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    if (existing) await access(path, constants.W_OK);
  } catch (error) {
    throw new UsageError(`cannot write ${what}: ${why(error)}`);
  }
}

/** `no such file`, `permission denied` … for an errno error, else its message. */
export function why(error: unknown): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  return (code && ERRNO_TEXT[code]) ?? (error instanceof Error ? error.message : String(error));
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'the file system is read-only',
  ENOTDIR: 'a part of the path is a file, not a directory',
  EISDIR: 'it is a directory',
  EEXIST: 'a file is in the way',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exceeded',
  EMFILE: 'too many open files (raise `ulimit -n`)',
  EIO: 'an I/O error on the device',
};

/** Errno codes that mean the user's input or environment (a path, a permission), not a rethumb failure. */
export const USER_ERRNO: ReadonlySet<string> = new Set(['ENOENT', 'EACCES', 'EPERM', 'EROFS', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ENAMETOOLONG', 'ELOOP']);
