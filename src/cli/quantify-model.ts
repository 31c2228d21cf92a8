/*
 * The model of `kd-lens quantify`: a TF.js layers folder (NHWC; runs on either engine) or an ONNX
 * file (NCHW; ONNX engine only). Either way the caller gets the image size, any normalisation the
 * model carries, and what selectEngine needs.
 */
import { promises as fs } from 'node:fs';
import type * as tf from '@tensorflow/tfjs';
import { loadLayersModelFromDir } from '../engine/store/model-files';
import { tapFeature, modelInputShape } from '../engine/knowledge/feature';
import { modelFromTfjsAsync } from '../engine/onnx/from-tfjs';
import { readOnnxModel } from '../engine/onnx/onnx-file';
import { foldConstants } from '../engine/onnx/fold';
import { loadOrt } from '../engine/onnx/runtime';
import type { ModelIr } from '../engine/onnx/ir';

export interface QuantifyModel {
  kind: 'tfjs' | 'onnx';
  /** Image size H, W and channels C. */
  size: [number, number, number];
  /** Normalisation saved with a KD Lens model (TF.js metadata), if any. */
  mean?: number[];
  std?: number[];
  tfModel: tf.LayersModel | null;
  ir: () => ModelIr | Promise<ModelIr>;
  dispose(): void;
}

/** Opens `path` (a folder with model.json, or FILE.onnx) and checks that `layer` exists. */
export async function openQuantifyModel(path: string, layer: string): Promise<QuantifyModel> {
  if (path.toLowerCase().endsWith('.onnx')) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await fs.readFile(path));
    } catch (err) {
      throw new Error(
        `${path}: cannot read the ONNX file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
      );
    }
    const rt = await loadOrt();
    if ('error' in rt) throw new Error(`${path}: an ONNX file needs ONNX Runtime, which did not load: ${rt.error}`);
    const ir = await foldConstants(readOnnxModel(bytes, path), rt.ort);
    if (!ir.tapValues.has(layer))
      throw new Error(`${path}: no node or value named '${layer}'; the names are: ${ir.tapNames.join(', ')}`);
    const [c, h, w] = ir.input.shape;
    return { kind: 'onnx', size: [h, w, c], tfModel: null, ir: () => ir, dispose() {} };
  }
  const model = await loadLayersModelFromDir(path);
  try {
    const size = modelInputShape(model);
    tapFeature(model, layer); // an unknown layer fails here, listing the layers
    const meta = (model as unknown as { getUserDefinedMetadata?: () => unknown }).getUserDefinedMetadata?.() as
      { kdLens?: { mean?: number[]; std?: number[] } } | undefined;
    return {
      kind: 'tfjs',
      size,
      mean: meta?.kdLens?.mean,
      std: meta?.kdLens?.std,
      tfModel: model,
      ir: () => modelFromTfjsAsync(model, path),
      dispose: () => model.dispose()
    };
  } catch (err) {
    model.dispose();
    throw err;
  }
}
