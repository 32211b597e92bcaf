/**
 * `rethumb/s3`: a `Store` on Amazon S3 or any S3-compatible service. Requires the optional
 * peer dependency `@aws-sdk/client-s3`.
 */
export { S3Store, type S3StoreOptions } from './s3-store.js';
