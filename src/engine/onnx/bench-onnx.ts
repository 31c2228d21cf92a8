/*
 * The bench cases on the ONNX engine: one sigma step (loss + gradient w.r.t. sigma, noise drawn
 * by us as in a real run) or one training step (the compiled training graph) of the reference CNN,
 * at a given thread count.
 * Nothing here is a test.
 */
import { referenceCnn } from '../models/reference';
import { Rng } from '../util/random';
import { timeMedian, trainCase, type BenchCase, type BenchResult } from '../bench-cases';
import { onnxTrainEngine } from './train-engine';
import { modelFromTfjsAsync } from './from-tfjs';
import { onnxSigmaEngine } from './engine';
import type { RuntimeChoice } from './runtime';

/** Times one case on ONNX Runtime with `runtime`'s provider and threads; onGraph receives a train case's step graph. */
export async function runOnnxCase(
  c: BenchCase,
  runtime: RuntimeChoice,
  timing: { runs: number; warmup: number; onGraph?: (name: string, bytes: Uint8Array) => void }
): Promise<BenchResult> {
  const { runs, warmup } = timing;
  if (c.task === 'train') {
    const onGraph = (name: string, bytes: Uint8Array): void => timing.onGraph?.(`${name}-${c.px}px`, bytes);
    const r = await trainCase(c, onnxTrainEngine({ runtime, onGraph }), runs, warmup);
    return { ...r, backend: `${runtime.provider} x${runtime.threads}`, threads: runtime.threads };
  }
  const model = referenceCnn(c.px);
  const rng = new Rng(c.px);
  const images = c.images ?? 1;
  const samples = c.samples ?? 96;
  try {
    const engine = onnxSigmaEngine({ model: await modelFromTfjsAsync(model, 'reference'), tap: 'fc3', runtime });
    const stepper = await engine.open({ height: c.px, width: c.px, channels: 3, grid: 16, samples, relu: true });
    const inputs = rng.fillNormal(new Float32Array(images * c.px * c.px * 3));
    const clean = await stepper.features(inputs, images);
    const sigma = new Float32Array(images * 256).fill(0.01);
    const noise = new Float32Array(images * samples * c.px * c.px * 3);
    const ms = await timeMedian(
      async () => {
        rng.fillNormal(noise);
        await stepper.lossAndGradient({
          count: images,
          inputs,
          clean,
          sigma,
          lambdas: new Array(images).fill(7),
          sigmaF2: new Array(images).fill(1),
          noise
        });
      },
      runs,
      warmup
    );
    stepper.dispose();
    return {
      ...c,
      engine: 'onnx',
      backend: `${runtime.provider} x${runtime.threads}`,
      threads: runtime.threads,
      msPerStep: ms,
      imageStepsPerSec: (images * 1000) / ms,
      runs
    };
  } finally {
    model.dispose();
  }
}
