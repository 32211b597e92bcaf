/** A real S3-compatible server (s3rver) on 127.0.0.1 for tests, with one bucket, in a temp directory. */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
// @ts-expect-error — s3rver ships no types; the fork is used only here, through its documented constructor and run().
import S3rver from '@20minutes/s3rver';

export interface TestS3 {
  bucket: string;
  endpoint: string;
  /** A new client for this server (path-style, fixed loopback endpoint, s3rver's fixed credentials). */
  client(): S3Client;
  close(): Promise<void>;
}

export async function startTestS3(bucket = 'thumbs'): Promise<TestS3> {
  const directory = await mkdtemp(join(tmpdir(), 'rethumb-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, allowMismatchedSignatures: true, configureBuckets: [{ name: bucket }] });
  const address = (await server.run()) as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const clients: S3Client[] = [];
  return {
    bucket,
    endpoint,
    client() {
      const client = new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        // Checksums only where S3 requires them: s3rver predates the SDK's default CRC32 trailers.
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients.splice(0)) client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
