/*
 * An S3 emulator as a real HTTP server on a free loopback port (the s3rver package, pure JavaScript,
 * MIT): the S3 store is tested over the wire with @aws-sdk/client-s3, as it talks to MinIO or AWS.
 */
import S3rver from 's3rver';

export interface S3Emulator {
  endpoint: string;
  /** An s3:// store URL for a bucket of the emulator. */
  url(bucket: string, prefix?: string): string;
  stop(): Promise<void>;
}

/** s3rver checks signatures against this fixed key pair. */
export const S3RVER_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

export async function startS3Emulator(directory: string, buckets: string[]): Promise<S3Emulator> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name }))
  });
  const address = (await server.run()) as { address: string; port: number };
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    url: (bucket, prefix = '') => `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}`,
    stop: () => server.close()
  };
}
