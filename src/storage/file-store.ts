/**
 * A `Store` on the local file system: `<root>/<key>/<variant>.<ext>`, written atomically
 * (temp file in the same directory, fsync, rename) so a thumbnail is whole or absent even after
 * `kill -9` or a power loss.
 */
import { randomBytes } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { lstat, mkdir, open, opendir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import * as path from 'node:path';
import { AbortedError, ConfigError, InvalidKeyError, RethumbError, StoreError } from '../errors.js';
import { formatOfExtension } from '../types.js';
import { assertValidAddress, assertValidPrefix, isValidKey, isValidVariant, type ValidAddress } from './store-key.js';
import type { Store, StoredThumbnail, StoreEntryAddress, StoreEntryInfo, StoreListing, StoreOperationOptions } from './store.js';

export interface FileStoreOptions {
  /**
   * fsync each file before rename, and its directory after (durable across power loss, not
   * only kill -9). Turn off only for scratch stores: a rename without it can survive a power
   * loss while the data it points to does not.
   * @default true
   */
  fsync?: boolean;
}

/** Where one entry lives on disk. */
interface EntryPaths {
  address: ValidAddress;
  dir: string;
  file: string;
  /** Empty sidecar whose presence marks the entry degraded. */
  marker: string;
}

// "Absent" for a read: no file, a path component that is a file, or a directory where the
// image would be (a key segment named like `small.webp` under another key).
const ABSENT = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);
// Errors fsync of a directory may raise where directories cannot be opened or synced (Windows,
// some network file systems): the rename is still atomic, only its durability is best effort.
const DIR_SYNC_UNSUPPORTED = new Set(['EISDIR', 'EPERM', 'EACCES', 'EINVAL', 'ENOTSUP', 'EBADF']);

/**
 * A store in a directory. Every key passes `assertValidKey()` and every path is checked to be
 * inside `root`. Writes to one entry are serialised within the process.
 */
export class FileStore implements Store {
  /** The store's directory, absolute. */
  readonly root: string;
  readonly #fsync: boolean;
  /** Tail of the write chain of each entry (by file path); removed when it drains. */
  readonly #writes = new Map<string, Promise<void>>();

  /** Validates its arguments only: the directory is created by the first `put()`. */
  constructor(root: string, options: FileStoreOptions = {}) {
    if (typeof root !== 'string' || root.length === 0 || root.includes('\0')) {
      throw new ConfigError('root', 'a non-empty directory path', root);
    }
    if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object', options);
    const fsync = options.fsync ?? true;
    if (typeof fsync !== 'boolean') throw new ConfigError('fsync', 'a boolean', fsync);
    this.root = path.resolve(root);
    this.#fsync = fsync;
  }

  async get(address: StoreEntryAddress, options: StoreOperationOptions = {}): Promise<StoredThumbnail | undefined> {
    const { signal } = options;
    const entry = this.#paths(address);
    try {
      const read = await this.#betweenMarkerChecks(entry.marker, signal, async () => {
        const body = await absentAsUndefined(readFile(entry.file, { signal }));
        return body === undefined ? undefined : { body };
      });
      return read && { body: read.value.body, degraded: read.degraded };
    } catch (error) {
      throw failure(error, 'read', entry.file, signal);
    }
  }

  async head(address: StoreEntryAddress, options: StoreOperationOptions = {}): Promise<StoreEntryInfo | undefined> {
    const { signal } = options;
    const entry = this.#paths(address);
    try {
      const read = await this.#betweenMarkerChecks(entry.marker, signal, async () => {
        const stats = await absentAsUndefined(stat(entry.file));
        return stats?.isFile() ? { size: stats.size } : undefined;
      });
      return read && { size: read.value.size, degraded: read.degraded };
    } catch (error) {
      throw failure(error, 'stat', entry.file, signal);
    }
  }

  /**
   * Runs `read` between two checks of the degraded marker: a put in between flips it, and
   * "degraded" is the safe answer when in doubt (a later run replaces the entry).
   */
  async #betweenMarkerChecks<T>(marker: string, signal: AbortSignal | undefined, read: () => Promise<T | undefined>): Promise<{ value: T; degraded: boolean } | undefined> {
    throwIfAborted(signal);
    const markedBefore = await this.#exists(marker);
    throwIfAborted(signal);
    const value = await read();
    if (value === undefined) return undefined;
    throwIfAborted(signal);
    const degraded = markedBefore || (await this.#exists(marker));
    return { value, degraded };
  }

  async put(address: StoreEntryAddress, thumbnail: StoredThumbnail, options: StoreOperationOptions = {}): Promise<void> {
    const { signal } = options;
    const entry = this.#paths(address);
    const body = assertBody(thumbnail);
    const degraded = thumbnail.degraded === true;
    await this.#exclusive(entry.file, async () => {
      const { dir, file, marker } = entry;
      const temp = path.join(dir, `.${entry.address.fileName}.${randomBytes(8).toString('hex')}.tmp`);
      let tempCreated = false;
      let committed = false;
      try {
        throwIfAborted(signal);
        await mkdir(dir, { recursive: true });
        if (degraded) {
          // Marker first: a crash before the image lands leaves a real image marked degraded
          // (harmless, a later run replaces it), never a derived image that looks real.
          throwIfAborted(signal);
          await (await open(marker, 'w')).close();
          if (this.#fsync) await syncDirectory(dir);
        }
        throwIfAborted(signal);
        // 'wx': a fresh file, never someone else's temp file.
        const handle = await open(temp, 'wx');
        tempCreated = true;
        try {
          throwIfAborted(signal);
          await handle.writeFile(body);
          if (this.#fsync) {
            throwIfAborted(signal);
            await handle.sync();
          }
        } finally {
          await handle.close();
        }
        throwIfAborted(signal);
        await rename(temp, file);
        // The rename is the commit point: from here on the signal is ignored, so the marker
        // always ends up agreeing with the image.
        committed = true;
        // Makes the rename durable before the marker goes, so after a power loss an old
        // derived image can never reappear without its marker.
        if (this.#fsync) await syncDirectory(dir);
        if (!degraded) await unlinkIfPresent(marker);
      } catch (error) {
        if (tempCreated && !committed) await rm(temp, { force: true }).catch(() => undefined);
        throw failure(error, 'write', file, signal);
      }
    });
  }

  async delete(address: StoreEntryAddress, options: StoreOperationOptions = {}): Promise<void> {
    const { signal } = options;
    const entry = this.#paths(address);
    await this.#exclusive(entry.file, async () => {
      try {
        throwIfAborted(signal);
        // Image first: a crash in between leaves a stray marker, never an unmarked derived image.
        await unlinkIfPresent(entry.file);
        await unlinkIfPresent(entry.marker);
      } catch (error) {
        throw failure(error, 'delete', entry.file, signal);
      }
    });
  }

  /**
   * Walks the tree depth-first with one `fs.opendir` handle per level, so memory stays flat
   * however many entries the store holds. Directories that cannot hold a key starting with
   * `prefix` are not entered. Symbolic links are not followed (no cycles).
   */
  async *list(prefix = '', options: StoreOperationOptions = {}): AsyncIterable<StoreListing> {
    const { signal } = options;
    const checked = assertValidPrefix(prefix);
    throwIfAborted(signal);
    // Start at the deepest directory the prefix names in full: `users/4` starts in `users`.
    const slash = checked.lastIndexOf('/');
    yield* this.#walk(slash === -1 ? '' : checked.slice(0, slash), checked, signal);
  }

  async *#walk(dirKey: string, prefix: string, signal: AbortSignal | undefined): AsyncGenerator<StoreListing> {
    const dirPath = dirKey === '' ? this.root : this.#inside(dirKey);
    try {
      throwIfAborted(signal);
      let dir;
      try {
        dir = await opendir(dirPath);
      } catch (error) {
        if (ABSENT.has(errorCode(error))) return;
        throw error;
      }
      // The Dir's iterator closes it when the loop ends, breaks or throws.
      for await (const dirent of dir) {
        throwIfAborted(signal);
        const name = dirent.name;
        // Temp files and markers; also anything else hidden, which no valid key can name.
        if (name.startsWith('.')) continue;
        const type = await typeOf(dirent, path.join(dirPath, name));
        if (type === 'directory') {
          const childKey = dirKey === '' ? name : `${dirKey}/${name}`;
          if (!isValidKey(childKey)) continue;
          if (childKey.startsWith(prefix) || prefix.startsWith(`${childKey}/`)) yield* this.#walk(childKey, prefix, signal);
        } else if (type === 'file' && dirKey !== '' && dirKey.startsWith(prefix)) {
          const listing = await this.#listing(dirKey, dirPath, name, signal);
          if (listing) yield listing;
        }
      }
    } catch (error) {
      throw failure(error, 'list', dirPath, signal);
    }
  }

  /** The listing of one file in a key directory, or `undefined` when it is not an entry. */
  async #listing(key: string, dirPath: string, name: string, signal: AbortSignal | undefined): Promise<StoreListing | undefined> {
    const dot = name.lastIndexOf('.');
    const variant = name.slice(0, dot);
    const format = formatOfExtension(name.slice(dot + 1));
    if (dot <= 0 || format === undefined || !isValidVariant(variant)) return undefined;
    throwIfAborted(signal);
    let size: number;
    try {
      size = (await lstat(path.join(dirPath, name))).size;
    } catch (error) {
      // Deleted while we walked: it is simply gone.
      if (ABSENT.has(errorCode(error))) return undefined;
      throw error;
    }
    const degraded = await this.#exists(path.join(dirPath, `.${name}.degraded`));
    return { key, variant, format, degraded, size };
  }

  /** Validates the address and returns its paths, checked to be inside root. */
  #paths(address: StoreEntryAddress): EntryPaths {
    const valid = assertValidAddress(address);
    const dir = this.#inside(valid.key);
    return {
      address: valid,
      dir,
      file: path.join(dir, valid.fileName),
      marker: path.join(dir, `.${valid.fileName}.degraded`),
    };
  }

  /** `<root>/<key>`, refusing (defence in depth behind `assertValidKey`) any path outside root. */
  #inside(key: string): string {
    const full = path.resolve(this.root, key);
    const relative = path.relative(this.root, full);
    if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
      throw new InvalidKeyError(key, 'the key resolves outside the store root');
    }
    return full;
  }

  async #exists(file: string): Promise<boolean> {
    try {
      await lstat(file);
      return true;
    } catch (error) {
      if (ABSENT.has(errorCode(error))) return false;
      throw error;
    }
  }

  /** Runs `task` after every earlier write to the same entry in this process has settled. */
  async #exclusive(file: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#writes.get(file);
    let release!: () => void;
    const tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.#writes.set(file, tail);
    try {
      if (previous) await previous;
      await task();
    } finally {
      release();
      if (this.#writes.get(file) === tail) this.#writes.delete(file);
    }
  }
}

function assertBody(thumbnail: StoredThumbnail): Uint8Array {
  const body = (thumbnail as Partial<StoredThumbnail> | null | undefined)?.body as unknown;
  if (!(body instanceof Uint8Array)) throw new StoreError('Expected `thumbnail.body` to be a Buffer');
  return body;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError(signal.reason);
}

function errorCode(error: unknown): string {
  return (error as NodeJS.ErrnoException | undefined)?.code ?? '';
}

/** A rethumb error for `error`: rethumb errors pass through, an abort becomes AbortedError. */
function failure(error: unknown, action: string, file: string, signal: AbortSignal | undefined): RethumbError {
  if (error instanceof RethumbError) return error;
  if (signal?.aborted) return new AbortedError(signal.reason);
  const detail = errorCode(error) || (error instanceof Error ? error.message : String(error));
  return new StoreError(`Could not ${action} ${file}: ${detail}`, error);
}

/** `operation`'s result, or undefined when the file (or a directory on its path) is absent. */
async function absentAsUndefined<T>(operation: Promise<T>): Promise<T | undefined> {
  try {
    return await operation;
  } catch (error) {
    if (ABSENT.has(errorCode(error))) return undefined;
    throw error;
  }
}

async function unlinkIfPresent(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (error) {
    if (!ABSENT.has(errorCode(error))) throw error;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    if (!DIR_SYNC_UNSUPPORTED.has(errorCode(error))) throw error;
  } finally {
    await handle?.close();
  }
}

/** The dirent's type; some file systems do not report it, so ask lstat then. */
async function typeOf(dirent: Dirent, full: string): Promise<'file' | 'directory' | 'other'> {
  if (dirent.isFile()) return 'file';
  if (dirent.isDirectory()) return 'directory';
  if (dirent.isSymbolicLink() || dirent.isFIFO() || dirent.isSocket() || dirent.isBlockDevice() || dirent.isCharacterDevice()) return 'other';
  try {
    const stats = await lstat(full);
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other';
  } catch (error) {
    if (ABSENT.has(errorCode(error))) return 'other';
    throw error;
  }
}
