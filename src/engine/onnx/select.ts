/*
 * Which engine quantifies a model: ONNX Runtime when asked for (or 'auto') and when both the
 * runtime loads and the model compiles; TF.js otherwise. 'auto' falls back with the reason; an
 * explicit 'onnx' fails with it. Every choice carries a one-line note saying what runs and why.
 */
import type * as tf from '@tensorflow/tfjs';
import type { QuantifyEngine } from '../../common/config';
import { tfSigmaEngine, type SigmaEngine, type StepDims } from '../knowledge/sigma';
import { tapFeature } from '../knowledge/feature';
import { currentBackend } from '../tf/backend';
import { modelFromTfjsAsync } from './from-tfjs';
import { compileSigma } from './compile';
import { onnxSigmaEngine } from './engine';
import { chooseRuntime, type DeviceRequest, type RuntimeChoice } from './runtime';
import type { ModelIr } from './ir';

export interface EngineRequest {
  engine: QuantifyEngine;
  device: DeviceRequest;
  /** Intra-op threads of ONNX Runtime. */
  threads: number;
}

export interface EngineChoice {
  engine: SigmaEngine;
  /** 'onnx' or 'tfjs'. */
  kind: 'onnx' | 'tfjs';
  /** e.g. 'onnx cpu — 1 thread' or 'tfjs (wasm) — onnx: node ... has no backward rule'. */
  note: string;
}

const runtimes = new Map<string, Promise<RuntimeChoice | { error: string }>>();

/** The runtime for a device and thread count, chosen once per process. */
export function runtimeFor(device: DeviceRequest, threads: number): Promise<RuntimeChoice | { error: string }> {
  const key = `${device}/${threads}`;
  if (!runtimes.has(key)) runtimes.set(key, chooseRuntime(device, threads));
  return runtimes.get(key)!;
}

/** Picks the engine for a model (its IR read lazily) at a tap. */
export async function selectEngine(
  req: EngineRequest,
  target: {
    ir: () => ModelIr | Promise<ModelIr>;
    tfModel: tf.LayersModel | null;
    tap: string;
    dims: StepDims;
    onGraph?: (name: 'features' | 'step', bytes: Uint8Array) => void;
  }
): Promise<EngineChoice> {
  const tfEngine = (why: string): EngineChoice => {
    if (!target.tfModel)
      throw new Error(`the ONNX engine cannot run this model and there is no TF.js form of it: ${why}`);
    return {
      engine: tfSigmaEngine(tapFeature(target.tfModel, target.tap)),
      kind: 'tfjs',
      note: `tfjs (${currentBackend()?.name ?? 'unknown backend'}) — ${why}`
    };
  };
  if (req.engine === 'tfjs') return tfEngine('requested');
  const rt = await runtimeFor(req.device, req.threads);
  let problem: string;
  if ('error' in rt) problem = rt.error;
  else {
    try {
      const ir = await target.ir();
      const compiled = compileSigma(ir, target.tap, target.dims);
      return {
        engine: onnxSigmaEngine({ model: ir, tap: target.tap, runtime: rt, compiled, onGraph: target.onGraph }),
        kind: 'onnx',
        note: rt.reason
      };
    } catch (err) {
      problem = `the model does not compile to ONNX: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  if (req.engine === 'onnx') throw new Error(`engine onnx: ${problem}`);
  return tfEngine(`onnx unavailable: ${problem}`);
}

/** selectEngine for a TF.js layers model. */
export function selectForTfjs(
  req: EngineRequest,
  model: tf.LayersModel,
  { source, tap, dims }: { source: string; tap: string; dims: StepDims }
): Promise<EngineChoice> {
  return selectEngine(req, { ir: () => modelFromTfjsAsync(model, source), tfModel: model, tap, dims });
}
