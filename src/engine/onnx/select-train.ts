/*
 * Which engine trains a stage, as select.ts chooses for quantification: ONNX Runtime when asked for
 * (or 'auto') and when both the runtime loads and the stage compiles to a training graph; TF.js
 * otherwise. 'auto' falls back with the reason; an explicit 'onnx' fails with it. The choice is made
 * when the stage opens (only then are its model, trainable layers and objective known) and reported
 * through onChoice as one line saying what runs and why.
 */
import * as tf from '@tensorflow/tfjs';
import type { QuantifyEngine } from '../../common/config';
import { tfjsTrainEngine, type TrainEngine } from '../training/engine';
import { onnxTrainEngine } from './train-engine';
import { runtimeFor } from './select';
import type { DeviceRequest } from './runtime';

export interface TrainEngineRequest {
  engine: QuantifyEngine;
  device: DeviceRequest;
  /** Intra-op threads of ONNX Runtime. */
  threads: number;
}

export interface TrainEngineChoice {
  kind: 'onnx' | 'tfjs';
  /** e.g. 'onnx cpu — 2 threads' or 'tfjs (wasm) — onnx unavailable: layer ...'. */
  note: string;
}

export function selectTrainEngine(req: TrainEngineRequest, onChoice: (c: TrainEngineChoice) => void): TrainEngine {
  return {
    kind: req.engine === 'tfjs' ? 'tfjs' : 'onnx',
    async open(spec) {
      const tfjs = tfjsTrainEngine(tf.getBackend());
      const fallback = (why: string): ReturnType<TrainEngine['open']> => {
        onChoice({ kind: 'tfjs', note: `tfjs (${tf.getBackend()}) — ${why}` });
        return tfjs.open(spec);
      };
      if (req.engine === 'tfjs') return fallback('requested');
      const rt = await runtimeFor(req.device, req.threads);
      let problem: string;
      if ('error' in rt) problem = rt.error;
      else {
        try {
          const stepper = await onnxTrainEngine({ runtime: rt }).open(spec);
          onChoice({ kind: 'onnx', note: stepper.description });
          return stepper;
        } catch (err) {
          problem = `the stage does not compile to an ONNX training graph: ${err instanceof Error ? err.message : String(err)}`;
        }
      }
      if (req.engine === 'onnx') throw new Error(`${spec.name}: engine onnx: ${problem}`);
      return fallback(`onnx unavailable: ${problem}`);
    }
  };
}
