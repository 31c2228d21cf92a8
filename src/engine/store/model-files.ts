/*
 * TF.js layers-format models on disk (model.json + binary weight shards) without tfjs-node:
 * an IOHandler that loads with readable errors and one that saves atomically.
 */
import * as tf from '@tensorflow/tfjs';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { readJson, writeFileAtomic, writeJsonAtomic } from './atomic';
import { z } from 'zod';

const JsonObject = z.record(z.string(), z.unknown());

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

interface WeightsGroup {
  paths: string[];
  weights: tf.io.WeightsManifestEntry[];
}

/** Reads a layers-format model folder into model artifacts, checking every weight file and its size. */
export async function loadModelArtifacts(dir: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = join(dir, 'model.json');
  const parsed = JsonObject.safeParse(await readJson(jsonPath));
  if (!parsed.success) throw new Error(`${jsonPath}: expected a JSON object`);
  const json = parsed.data;
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null)
    throw new Error(`${jsonPath}: field 'modelTopology' is missing; is this a TF.js layers-format model?`);
  const manifest = json.weightsManifest as WeightsGroup[] | undefined;
  if (!Array.isArray(manifest)) throw new Error(`${jsonPath}: field 'weightsManifest' is missing or not a list`);
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: Buffer[] = [];
  for (const [gi, group] of manifest.entries()) {
    if (!Array.isArray(group?.paths) || !Array.isArray(group?.weights))
      throw new Error(`${jsonPath}: weightsManifest[${gi}] needs 'paths' and 'weights' lists`);
    const parts: Buffer[] = [];
    for (const p of group.paths) {
      if (typeof p !== 'string' || p.includes('..') || p.startsWith('/'))
        throw new Error(`${jsonPath}: weightsManifest[${gi}] has an unsafe weight path '${String(p)}'`);
      try {
        parts.push(await fs.readFile(join(dir, p)));
      } catch {
        throw new Error(`${join(dir, p)}: weight file not found (listed in ${jsonPath})`);
      }
    }
    const data = Buffer.concat(parts);
    let expected = 0;
    for (const w of group.weights) {
      const bytes = DTYPE_BYTES[w.dtype];
      if (!bytes) throw new Error(`${jsonPath}: weight '${w.name}' has unsupported dtype '${w.dtype}'`);
      if (w.quantization)
        throw new Error(`${jsonPath}: weight '${w.name}' is quantized; quantized models are not supported`);
      expected += bytes * w.shape.reduce((a, b) => a * b, 1);
    }
    if (data.length !== expected)
      throw new Error(
        `${group.paths.map((p) => join(dir, p)).join(', ')}: ${data.length} bytes of weights, but model.json describes ${expected} (corrupt or truncated)`
      );
    specs.push(...group.weights);
    buffers.push(data);
  }
  const all = Buffer.concat(buffers);
  return {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    format: json.format as string | undefined,
    generatedBy: json.generatedBy as string | undefined,
    convertedBy: json.convertedBy as string | null | undefined,
    trainingConfig: json.trainingConfig as tf.io.TrainingConfig | undefined,
    userDefinedMetadata: json.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
    weightSpecs: specs,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength)
  };
}

/** Loads a TF.js LayersModel from a folder; errors name the file and the problem. */
export async function loadLayersModelFromDir(dir: string): Promise<tf.LayersModel> {
  const artifacts = await loadModelArtifacts(dir);
  try {
    return await tf.loadLayersModel({ load: async () => artifacts });
  } catch (err) {
    throw new Error(`${join(dir, 'model.json')}: cannot build the model (${(err as Error).message})`);
  }
}

/** An IOHandler that saves model.json and one weights.bin atomically into `dir`. */
export function dirSaver(dir: string): tf.io.IOHandler {
  return {
    save: async (artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> => {
      const weightData = artifacts.weightData;
      const bytes =
        weightData === undefined
          ? new Uint8Array(0)
          : new Uint8Array(Array.isArray(weightData) ? concatBuffers(weightData) : weightData);
      await writeFileAtomic(join(dir, 'weights.bin'), bytes);
      await writeJsonAtomic(join(dir, 'model.json'), {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        userDefinedMetadata: artifacts.userDefinedMetadata,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }]
      });
      return {
        modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: bytes.byteLength }
      };
    }
  };
}

function concatBuffers(parts: ArrayBuffer[]): ArrayBuffer {
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), off);
    off += p.byteLength;
  }
  return out.buffer;
}
