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
import type { AnalysisImage, TaskResult } from '../../engine/experiment/executor';
import type { SigmaResult } from '../../engine/knowledge/sigma';

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
