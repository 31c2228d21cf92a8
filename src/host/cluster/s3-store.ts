/*
 * The store on any S3-compatible service (AWS S3, MinIO, R2) through @aws-sdk/client-s3. With an
 * explicit endpoint it uses path-style addressing (MinIO and emulators need it). Credentials come
 * from the SDK's standard chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, roles.
 */
import {
  S3Client,
  PutObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command
} from '@aws-sdk/client-s3';
import { checkKey, type ArtifactStore } from './store';

interface S3Location {
  bucket: string;
  prefix: string;
  endpoint?: string;
  region?: string;
}

const notFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

export class S3Store implements ArtifactStore {
  readonly description: string;
  private readonly client: S3Client;
  constructor(private readonly at: S3Location) {
    this.description = `s3://${at.bucket}/${at.prefix}${at.endpoint ? ` at ${at.endpoint}` : ''}`;
    this.client = new S3Client({
      region: at.region ?? process.env.AWS_REGION ?? 'us-east-1',
      ...(at.endpoint ? { endpoint: at.endpoint, forcePathStyle: true } : {}),
      // Checksums only where the API requires them: emulators and older MinIO reject the newer headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3
    });
  }

  private full(key: string): string {
    checkKey(key);
    return this.at.prefix ? `${this.at.prefix}/${key}` : key;
  }

  private fail(what: string, key: string, err: unknown): Error {
    const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode ? ` (HTTP ${e.$metadata.httpStatusCode})` : '';
    return new Error(
      `the store (${this.description}) ${what} ${key}: ${e.name ?? 'error'}${status} ${e.message ?? ''}`.trim()
    );
  }

  async put(key: string, data: Uint8Array): Promise<void> {
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.at.bucket, Key: this.full(key), Body: data }));
    } catch (err) {
      throw this.fail('refused to write', key, err);
    }
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.at.bucket, Key: this.full(key) }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
    } catch (err) {
      if (notFound(err)) return null;
      throw this.fail('cannot read', key, err);
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.at.bucket, Key: this.full(key) }));
      return true;
    } catch (err) {
      if (notFound(err)) return false;
      throw this.fail('cannot look up', key, err);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const base = `${this.full(prefix)}/`;
    const strip = this.at.prefix ? this.at.prefix.length + 1 : 0;
    const out: string[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: this.at.bucket, Prefix: base, ContinuationToken: token })
        );
        for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key.slice(strip));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (err) {
      throw this.fail('cannot list', prefix, err);
    }
    return out.sort();
  }
}
