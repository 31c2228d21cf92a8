/*
 * Store objects of a cluster run as bytes and back: the setup (frozen configuration and the
 * analysed images) and each job's result. Float arrays travel as little-endian base64, so a map
 * read back is bit-for-bit the one computed; NaN and infinities travel as strings. Every object
 * read is validated by its schema (src/common/cluster.ts) and a bad one names its key.
 */
import { createHash } from 'node:crypto';
import type { ZodType } from 'zod';
import type { RunConfig } from '../../common/config';
import {
  ClusterResultSchema,
  ClusterSetupSchema,
  type ClusterResultDoc,
  type ClusterSetupDoc
} from '../../common/cluster';
import { parseWith } from '../../common/schema';
import type { AnalysisImage, TaskResult } from '../../engine/experiment/quantify-executor';
import type { SigmaResult } from '../../engine/knowledge/sigma';
import type { ImageSet } from '../../engine/training/batches';

type Num = number | 'NaN' | 'Infinity' | '-Infinity';
const toNum = (v: number): Num => (Number.isFinite(v) ? v : Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity');
const fromNum = (v: Num): number => (typeof v === 'number' ? v : Number(v));

const toB64 = (a: Float32Array): string => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
function fromB64(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 4));
  return out;
}

const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

function parseBytes<T>(schema: ZodType<T>, bytes: Uint8Array, origin: string): T {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new Error(`${origin}: not JSON`);
  }
  return parseWith(schema, value, origin);
}

/** The setup object and its content-addressed key (setup/<sha256>.json). */
export function encodeSetup(config: RunConfig, images: AnalysisImage[]): { key: string; bytes: Uint8Array } {
  const doc: ClusterSetupDoc = {
    config,
    images: images.map((im) => ({ name: im.name, seed: im.seed, data: toB64(im.data) }))
  };
  const bytes = json(doc);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  return { key: `setup/${hash}.json`, bytes };
}

export function decodeSetup(bytes: Uint8Array, origin: string): { config: RunConfig; images: AnalysisImage[] } {
  const doc = parseBytes(ClusterSetupSchema, bytes, origin);
  return {
    config: doc.config as RunConfig,
    images: doc.images.map((im) => ({ name: im.name, seed: im.seed, data: fromB64(im.data) }))
  };
}

export function encodeResult(result: TaskResult, worker: string): Uint8Array {
  const doc: ClusterResultDoc = {
    id: result.id,
    engine: result.engine ?? 'unknown',
    worker,
    results: result.results.map((r) => ({
      name: r.name,
      effective: r.effective,
      sigmaF2: toNum(r.sigmaF2),
      sigma: r.sigma ? toB64(r.sigma) : null,
      entropy: r.entropy ? toB64(r.entropy) : null,
      meanEntropy: toNum(r.meanEntropy),
      steps: r.steps,
      selectedStep: r.selectedStep,
      lambda: toNum(r.lambda),
      trajectory: r.trajectory.map(toNum)
    }))
  };
  return json(doc);
}

export function decodeResult(bytes: Uint8Array, origin: string): TaskResult & { worker: string } {
  const doc = parseBytes(ClusterResultSchema, bytes, origin);
  const results: SigmaResult[] = doc.results.map((r) => ({
    name: r.name,
    effective: r.effective,
    sigmaF2: fromNum(r.sigmaF2),
    sigma: r.sigma === null ? null : fromB64(r.sigma),
    entropy: r.entropy === null ? null : fromB64(r.entropy),
    meanEntropy: fromNum(r.meanEntropy),
    steps: r.steps,
    selectedStep: r.selectedStep,
    lambda: fromNum(r.lambda),
    trajectory: r.trajectory.map(fromNum)
  }));
  return { id: doc.id, engine: doc.engine, worker: doc.worker, results };
}

interface DataHeader {
  sets: { name: 'train' | 'val'; n: number; size: number; ids: string[]; masks: boolean }[];
  classes: string[];
}

/** The training data as one binary object: a JSON header, then each set's x, labels and masks. */
export function encodeData(data: { train: ImageSet; val: ImageSet | null; classes: string[] }): {
  key: string;
  bytes: Uint8Array;
} {
  const sets = [['train', data.train] as const, ...(data.val ? [['val', data.val] as const] : [])];
  const header: DataHeader = {
    sets: sets.map(([name, s]) => ({ name, n: s.n, size: s.size, ids: s.ids, masks: Boolean(s.masks) })),
    classes: data.classes
  };
  const head = Buffer.from(JSON.stringify(header));
  const parts: Uint8Array[] = [new Uint8Array(new Uint32Array([head.length]).buffer), head];
  for (const [, s] of sets) {
    parts.push(new Uint8Array(s.x.buffer, s.x.byteOffset, s.x.byteLength));
    parts.push(new Uint8Array(s.labels.buffer, s.labels.byteOffset, s.labels.byteLength));
    if (s.masks) parts.push(s.masks);
  }
  const bytes = new Uint8Array(Buffer.concat(parts));
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 32);
  return { key: `data/${hash}.bin`, bytes };
}

export function decodeData(
  bytes: Uint8Array,
  origin: string
): { train: ImageSet; val: ImageSet | null; classes: string[] } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headLength = buf.readUInt32LE(0);
  let header: DataHeader;
  try {
    header = JSON.parse(buf.subarray(4, 4 + headLength).toString()) as DataHeader;
  } catch {
    throw new Error(`${origin}: not a KD Lens data object`);
  }
  let at = 4 + headLength;
  const take = (n: number): Uint8Array => {
    if (at + n > buf.length) throw new Error(`${origin}: cut short`);
    const out = new Uint8Array(n);
    out.set(buf.subarray(at, at + n));
    at += n;
    return out;
  };
  const sets = header.sets.map((h) => {
    const px = h.size * h.size;
    const set: ImageSet = {
      n: h.n,
      size: h.size,
      ids: h.ids,
      x: new Float32Array(take(h.n * px * 3 * 4).buffer),
      labels: new Int32Array(take(h.n * 4).buffer),
      masks: h.masks ? take(h.n * px) : null
    };
    return [h.name, set] as const;
  });
  const byName = new Map(sets);
  const train = byName.get('train');
  if (!train) throw new Error(`${origin}: no training set`);
  return { train, val: byName.get('val') ?? null, classes: header.classes };
}
