import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { S3Store } from '../../src/adapters/s3/index.js';
import { describeStoreContract, listed, rejectionCode } from '../storage/store-contract.js';
import { makeImage } from '../helpers/images.js';
import { FORMAT_EXTENSIONS } from '../../src/types.js';
import { startTestS3, type TestS3 } from './s3-server.js';

let s3: TestS3;
let run = 0;
beforeAll(async () => {
  s3 = await startTestS3();
});
afterAll(async () => {
  await s3?.close();
});

// A fresh, empty store per test: a new prefix in the same bucket. Damage is a PutObject straight
// through the S3 API (bit rot in the bucket, a bad sync): same key, same metadata, other bytes.
describeStoreContract('S3Store', async () => {
  const client = s3.client();
  const prefix = `run-${++run}/`;
  return {
    store: new S3Store({ client, bucket: s3.bucket, prefix }),
    async damage(address, bytes) {
      const { HeadObjectCommand, PutObjectCommand } = await import('@aws-sdk/client-s3');
      const Key = `${prefix}${address.key}/${address.variant}.${FORMAT_EXTENSIONS[address.format]}`;
      const head = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key }));
      await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key, Body: bytes, ContentLength: bytes.length, Metadata: head.Metadata }));
    },
    cleanup: async () => {},
  };
});

describe('S3Store', () => {
  const at = (key: string) => ({ key, variant: 'small', format: 'webp' as const });

  it('writes content type, and marks degraded objects no-cache for CDNs that serve the bucket', async () => {
    const client = s3.client();
    const store = new S3Store({ client, bucket: s3.bucket, prefix: 'meta/', cacheControl: 'public, max-age=31536000, immutable' });
    const body = await makeImage('webp', 20, 20);
    await store.put(at('real'), { body, degraded: false });
    await store.put(at('standin'), { body, degraded: true });
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    const real = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'meta/real/small.webp' }));
    const standIn = await client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'meta/standin/small.webp' }));
    expect([real.ContentType, real.CacheControl, real.Metadata?.['rethumb-degraded']]).toEqual(['image/webp', 'public, max-age=31536000, immutable', 'false']);
    expect([standIn.CacheControl, standIn.Metadata?.['rethumb-degraded']]).toEqual(['no-cache', 'true']);
  });

  it('ignores objects it did not write when listing', async () => {
    const client = s3.client();
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'foreign/readme.txt', Body: 'hi' }));
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'foreign/top.webp', Body: 'x' }));
    const store = new S3Store({ client, bucket: s3.bucket, prefix: 'foreign/' });
    expect(await listed(store.list())).toEqual([]);
  });

  it('turns an unreachable service into RETHUMB_STORE', async () => {
    const { S3Client } = await import('@aws-sdk/client-s3');
    // A closed loopback port: connection refused, never a request off this machine.
    const client = new S3Client({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    try {
      const store = new S3Store({ client, bucket: 'b' });
      expect(await rejectionCode(store.get(at('k')))).toBe(ErrorCodes.STORE);
    } finally {
      client.destroy();
    }
  });

  it.each([
    [{ bucket: '' }],
    [{ prefix: 'no-slash' }],
    [{ prefix: '/abs/' }],
    [{ listConcurrency: 0 }],
    [{ client: {} }],
  ])('refuses %j with RETHUMB_CONFIG', (bad) => {
    expect(() => new S3Store({ client: s3.client(), bucket: 'b', ...bad } as never)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
  });
});
