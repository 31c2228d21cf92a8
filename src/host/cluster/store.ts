/*
 * The artifact store of a cluster run: checkpoints, the analysed images and every job's result
 * travel through it, so a worker on another machine needs nothing but Redis and the store. One
 * small interface with two implementations: a shared folder (NFS) and any S3-compatible service.
 * Keys are relative POSIX paths of plain segments; everything of one experiment lives under
 * `runs/<experiment id>/`, and a run's view of the store cannot name a key outside that prefix.
 */
import { FolderStore } from './folder-store';
import { S3Store } from './s3-store';

export interface ArtifactStore {
  /** Where it is, for messages (no credentials). */
  readonly description: string;
  put(key: string, data: Uint8Array): Promise<void>;
  /** The object's bytes, or null when there is none. */
  get(key: string): Promise<Uint8Array | null>;
  exists(key: string): Promise<boolean>;
  /** Every key under `prefix` (a folder-like prefix ending without '/'). */
  list(prefix: string): Promise<string[]>;
}

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._=+-]{0,199}$/;

/** Checks a key: plain segments joined by '/', no '.', '..', empty or absolute parts. */
export function checkKey(key: string, origin = 'store key'): string {
  const parts = key.split('/');
  if (key.length > 1000 || parts.some((p) => !SEGMENT.test(p)))
    throw new Error(
      `${origin} '${key.slice(0, 200)}': not a plain relative path (letters, digits, . _ = + - per part)`
    );
  return key;
}

/** The prefix of one experiment in the store. */
export function runPrefix(experimentId: string): string {
  return checkKey(`runs/${experimentId}`, 'experiment id');
}

/** A view of the store confined to one run's prefix: keys are relative to it and checked. */
export class RunStore {
  readonly prefix: string;
  constructor(
    readonly store: ArtifactStore,
    experimentId: string
  ) {
    this.prefix = runPrefix(experimentId);
  }
  key(relative: string): string {
    return `${this.prefix}/${checkKey(relative)}`;
  }
  put(relative: string, data: Uint8Array): Promise<void> {
    return this.store.put(this.key(relative), data);
  }
  get(relative: string): Promise<Uint8Array | null> {
    return this.store.get(this.key(relative));
  }
  exists(relative: string): Promise<boolean> {
    return this.store.exists(this.key(relative));
  }
  async list(relative: string): Promise<string[]> {
    const base = this.key(relative);
    return (await this.store.list(base)).map((k) => k.slice(this.prefix.length + 1));
  }
}

/**
 * Opens a store from its URL: a folder path or file:///path, or s3://bucket[/prefix] with optional
 * ?endpoint=http://host:port (then path-style addressing, as MinIO needs) and &region=. S3
 * credentials come from the standard AWS chain (environment, shared files, instance roles).
 */
export function openStore(url: string): ArtifactStore {
  if (url.startsWith('s3://')) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`--store '${url}': not a valid s3:// URL`);
    }
    const bucket = parsed.hostname;
    if (!bucket) throw new Error(`--store '${url}': no bucket (s3://BUCKET/prefix)`);
    const prefix = parsed.pathname.replace(/^\/+|\/+$/g, '');
    if (prefix) checkKey(prefix, `--store '${url}' prefix`);
    return new S3Store({
      bucket,
      prefix,
      endpoint: parsed.searchParams.get('endpoint') ?? undefined,
      region: parsed.searchParams.get('region') ?? undefined
    });
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://'))
    throw new Error(`--store '${url}': use a folder, file:///folder or s3://bucket/prefix`);
  return new FolderStore(url.startsWith('file://') ? new URL(url).pathname : url);
}

/** Proves at start that the store answers and takes writes (a probe object under .kd-lens/). */
export async function checkStore(store: ArtifactStore): Promise<void> {
  const key = `kd-lens-probe/${process.pid}-${Date.now()}`;
  try {
    await store.put(key, new TextEncoder().encode('probe'));
    if (!(await store.exists(key))) throw new Error('an object just written cannot be found');
  } catch (err) {
    throw new Error(`the store at ${store.description} cannot be used: ${(err as Error).message}`);
  }
}

/** A study's ONNX checkpoint in its store folder: one file, written whole, so complete when present. */
export const ONNX_MODEL = 'model.onnx';
