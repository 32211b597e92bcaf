/**
 * A `Store` on Amazon S3 (or any S3-compatible service) through `@aws-sdk/client-s3`.
 * Layout `<prefix><key>/<variant>.<ext>`, like FileStore; the degraded flag is object metadata
 * (`x-amz-meta-rethumb-degraded: true`), so one PutObject writes bytes and flag together.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { AbortedError, ConfigError, StoreError } from '../../errors.js';
import { assertValidAddress, assertValidPrefix } from '../../storage/store-key.js';
import type { Store, StoredThumbnail, StoreEntryAddress, StoreEntryInfo, StoreListing, StoreOperationOptions } from '../../storage/store.js';
import { FORMAT_CONTENT_TYPES, formatOfExtension } from '../../types.js';

export interface S3StoreOptions {
  /** A configured client (region, credentials, endpoint). The store never closes it: the caller owns it. */
  client: S3Client;
  /** The bucket, which must exist. */
  bucket: string;
  /**
   * Prepended to every object key, e.g. `thumbs/`. Empty, or ending in `/`.
   * @default '' — the bucket root.
   */
  prefix?: string;
  /**
   * `Cache-Control` stored on real (not degraded) objects, for buckets served directly by a CDN.
   * Degraded entries get `no-cache`, so a stand-in is not kept at the edge for a year.
   * @default undefined — no header.
   */
  cacheControl?: string;
  /**
   * HEAD requests in flight at once while listing: `ListObjectsV2` returns no metadata, so the
   * degraded flag of each listed object costs one HEAD.
   * @default 8 — enough to hide the latency of one request, polite to a shared bucket.
   */
  listConcurrency?: number;
}

const DEGRADED = 'rethumb-degraded';
const PAGE = 1000;

/** A `Store` on S3. Usable as `store` or as a backup store. */
export class S3Store implements Store {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #cacheControl: string | undefined;
  readonly #listConcurrency: number;
  /** The last put of each object key still in flight from this process. */
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(options: S3StoreOptions) {
    if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object', options);
    const { client, bucket, prefix = '', cacheControl, listConcurrency = 8 } = options;
    if (client === null || typeof client !== 'object' || typeof (client as { send?: unknown }).send !== 'function') {
      throw new ConfigError('client', 'an S3Client from @aws-sdk/client-s3', client);
    }
    if (typeof bucket !== 'string' || bucket.length === 0) throw new ConfigError('bucket', 'a non-empty bucket name', bucket);
    if (typeof prefix !== 'string' || (prefix !== '' && (!prefix.endsWith('/') || prefix.startsWith('/')))) {
      throw new ConfigError('prefix', "'' or a relative path ending in `/`", prefix);
    }
    if (cacheControl !== undefined && typeof cacheControl !== 'string') throw new ConfigError('cacheControl', 'a string', cacheControl);
    if (!Number.isSafeInteger(listConcurrency) || listConcurrency < 1 || listConcurrency > 64) {
      throw new ConfigError('listConcurrency', 'an integer from 1 to 64', listConcurrency);
    }
    this.#client = client;
    this.#bucket = bucket;
    this.#prefix = prefix;
    this.#cacheControl = cacheControl;
    this.#listConcurrency = listConcurrency;
  }

  async get(address: StoreEntryAddress, options: StoreOperationOptions = {}): Promise<StoredThumbnail | undefined> {
    const key = this.#objectKey(address);
    const signal = options.signal;
    return this.#call('get', signal, async () => {
      try {
        const out = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: signal });
        if (!out.Body) throw new StoreError(`S3 returned no body for ${key}`);
        const body = Buffer.from(await out.Body.transformToByteArray());
        return { body, degraded: isDegraded(out.Metadata) };
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    });
  }

  async head(address: StoreEntryAddress, options: StoreOperationOptions = {}): Promise<StoreEntryInfo | undefined> {
    const key = this.#objectKey(address);
    return this.#call('head', options.signal, () => this.#headObject(key, options.signal));
  }

  async put(address: StoreEntryAddress, thumbnail: StoredThumbnail, options: StoreOperationOptions = {}): Promise<void> {
    const valid = assertValidAddress(address);
    const key = this.#prefix + `${valid.key}/${valid.fileName}`;
    if (!thumbnail || !Buffer.isBuffer(thumbnail.body)) throw new StoreError(`Expected the body of ${key} to be a Buffer`);
    const degraded = thumbnail.degraded === true;
    // Copied before the first await: the caller may reuse its buffer as soon as put() returns a promise.
    const body = Buffer.from(thumbnail.body);
    const cacheControl = degraded ? 'no-cache' : this.#cacheControl;
    await this.#serialized(key, () => this.#call('put', options.signal, async () => {
      await this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: FORMAT_CONTENT_TYPES[valid.format],
          ...(cacheControl === undefined ? {} : { CacheControl: cacheControl }),
          // Always written, `false` included: PutObject replaces metadata, so a real put clears the flag.
          Metadata: { [DEGRADED]: String(degraded) },
        }),
        { abortSignal: options.signal },
      );
    }));
  }

  async delete(address: StoreEntryAddress, options: StoreOperationOptions = {}): Promise<void> {
    const key = this.#objectKey(address);
    await this.#call('delete', options.signal, async () => {
      await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: options.signal });
    });
  }

  async *list(prefix = '', options: StoreOperationOptions = {}): AsyncIterable<StoreListing> {
    const wanted = assertValidPrefix(prefix);
    const signal = options.signal;
    let token: string | undefined;
    do {
      const page = await this.#call('list', signal, () =>
        this.#client.send(
          new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#prefix + wanted, ContinuationToken: token, MaxKeys: PAGE }),
          { abortSignal: signal },
        ),
      );
      const rows = (page.Contents ?? []).flatMap((object) => {
        const parsed = object.Key === undefined ? undefined : this.#parse(object.Key);
        // `a/` must not list key `a` (whose objects are `a/<file>`): keep keys that truly start with the prefix.
        return parsed && parsed.key.startsWith(wanted) ? [parsed] : [];
      });
      for (let i = 0; i < rows.length; i += this.#listConcurrency) {
        const batch = rows.slice(i, i + this.#listConcurrency);
        const infos = await this.#call('list', signal, () => Promise.all(batch.map((row) => this.#headObject(row.objectKey, signal))));
        for (const [j, row] of batch.entries()) {
          const info = infos[j];
          // Deleted between the listing and its HEAD: it is no longer there, so not listed.
          if (!info) continue;
          if (signal?.aborted) throw new AbortedError(signal.reason);
          yield { key: row.key, variant: row.variant, format: row.format, degraded: info.degraded, size: info.size };
        }
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * Runs puts of one object from this process one after another. PutObject is atomic on S3
   * itself; in order, the last call wins, and S3-compatible servers whose file backends are
   * not atomic under concurrent writes of one object (s3rver) never see two at once.
   */
  async #serialized<T>(key: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#writes.get(key);
    const current = (previous ?? Promise.resolve()).catch(() => {}).then(run);
    this.#writes.set(key, current);
    try {
      return await current;
    } finally {
      if (this.#writes.get(key) === current) this.#writes.delete(key);
    }
  }

  async #headObject(key: string, signal: AbortSignal | undefined): Promise<StoreEntryInfo | undefined> {
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key }), { abortSignal: signal });
      return { degraded: isDegraded(out.Metadata), size: out.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  #objectKey(address: StoreEntryAddress): string {
    const valid = assertValidAddress(address);
    return `${this.#prefix}${valid.key}/${valid.fileName}`;
  }

  /** An object key of this store as an entry, or undefined for objects rethumb did not write. */
  #parse(objectKey: string): { objectKey: string; key: string; variant: string; format: NonNullable<ReturnType<typeof formatOfExtension>> } | undefined {
    if (!objectKey.startsWith(this.#prefix)) return undefined;
    const rest = objectKey.slice(this.#prefix.length);
    const slash = rest.lastIndexOf('/');
    if (slash <= 0) return undefined;
    const file = rest.slice(slash + 1);
    const dot = file.lastIndexOf('.');
    const format = dot > 0 ? formatOfExtension(file.slice(dot + 1)) : undefined;
    if (!format) return undefined;
    return { objectKey, key: rest.slice(0, slash), variant: file.slice(0, dot), format };
  }

  /** Runs one S3 call: an aborted signal is AbortedError, any other failure a StoreError naming the operation. */
  async #call<T>(operation: string, signal: AbortSignal | undefined, run: () => Promise<T>): Promise<T> {
    if (signal?.aborted) throw new AbortedError(signal.reason);
    try {
      return await run();
    } catch (error) {
      if (signal?.aborted) throw new AbortedError(signal.reason);
      if (error instanceof StoreError || error instanceof AbortedError) throw error;
      throw new StoreError(`S3 ${operation} in bucket ${this.#bucket} failed: ${error instanceof Error ? error.message : String(error)}`, error);
    }
  }
}

function isDegraded(metadata: Record<string, string> | undefined): boolean {
  return metadata?.[DEGRADED] === 'true';
}

function isNotFound(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
}
