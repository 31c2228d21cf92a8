/*
 * Where a training stage's time goes on the ONNX engine (a benchmark, not a test; run by
 * scripts/bench-stage-split.mjs): a baseline-sized stage (the demo's target set: 500 training and 150
 * validation images of 10 classes at 32 px, vgg-small, batch 32) timed per part: opening the stepper
 * (compiling and loading its graphs), the steps, the per-epoch evaluation and the flushes into the
 * TF.js model (epoch ends and the loop's snapshots); the rest is the loop's own work (snapshots,
 * resume data, batches). Two ways to evaluate, run alternately: 'tfjs' is the loop before the
 * evaluation moved to ONNX Runtime (flush, then evaluate() on TF.js), 'onnx' the stepper's own.
 * Then the validation alone, warm: the same 150 images evaluated on one open stepper and on TF.js.
 * The images are seeded noise: the time of a step does not depend on what the pixels show. The resume
 * data stays in memory (a real stage writes it to its folder, which adds to the rest).
 */
import { onnxTrainEngine } from '../onnx/train-engine';
import { chooseRuntime, type RuntimeChoice } from '../onnx/runtime';
import { initBackend } from '../tf/backend';
import { ARCHITECTURE_PRESETS, buildNetwork, tapKernel } from '../models/architectures';
import { Rng } from '../util/random';
import type { ImageSet } from './batches';
import type { TrainEngine, TrainStepper } from './engine';
import { evaluate } from './evaluate';
import { runStage, type ResumeData } from './stage';
import { MomentumSgd } from './sgd';

export interface StageSplit {
  evaluation: 'tfjs' | 'onnx';
  /** Milliseconds of the whole runStage call and of each part. */
  total: number;
  open: number;
  steps: number;
  evaluate: number;
  flush: number;
  rest: number;
}

function noiseSet(n: number, o: { size: number; classes: number; seed: number }): ImageSet {
  return {
    n,
    size: o.size,
    x: new Rng(o.seed).fillNormal(new Float32Array(n * o.size * o.size * 3)),
    labels: Int32Array.from({ length: n }, (_, i) => i % o.classes),
    ids: Array.from({ length: n }, (_, i) => `i${i}`),
    masks: null
  };
}

/** The ONNX engine with every call of the stepper timed into `t`; evaluation by the stepper or on TF.js after a flush. */
function timed(engine: TrainEngine, t: StageSplit): TrainEngine {
  const clock = async <T>(part: 'open' | 'steps' | 'evaluate' | 'flush', f: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await f();
    } finally {
      t[part] += performance.now() - t0;
    }
  };
  return {
    kind: engine.kind,
    async open(spec) {
      const s = await clock('open', () => engine.open(spec));
      const stepper: TrainStepper = {
        description: s.description,
        step: (input) => clock('steps', () => s.step(input)),
        flush: () => clock('flush', () => s.flush()),
        reload: () => s.reload(),
        dispose: () => s.dispose(),
        evaluate: async (set) => {
          if (t.evaluation === 'onnx') return clock('evaluate', () => s.evaluate(set));
          await stepper.flush();
          return clock('evaluate', () => evaluate(spec.model, spec.objective, set));
        }
      };
      return stepper;
    }
  };
}

/** One 3-epoch baseline-sized stage on the ONNX engine, its time split by part. */
export async function benchStageSplit(o: {
  runtime: RuntimeChoice;
  evaluation: 'tfjs' | 'onnx';
  epochs?: number;
}): Promise<StageSplit> {
  const size = 32,
    classes = 10;
  const t: StageSplit = { evaluation: o.evaluation, total: 0, open: 0, steps: 0, evaluate: 0, flush: 0, rest: 0 };
  const model = buildNetwork({ ...ARCHITECTURE_PRESETS['vgg-small'], inputSize: size }, classes, 1);
  let stored: ResumeData | null = null;
  const t0 = performance.now();
  await runStage({
    name: 'baseline (bench)',
    model,
    trainable: model.trainableWeights,
    objective: { kind: 'labels', numClasses: classes },
    config: { epochs: o.epochs ?? 3, lr: 0.03, lrEnd: 0.003, batchSize: 32 },
    momentum: 0.9,
    weightDecay: 1e-4,
    augment: { flip: false, cropPad: 2 },
    train: noiseSet(500, { size, classes, seed: 1 }),
    val: noiseSet(150, { size, classes, seed: 2 }),
    seed: 0,
    // The demo's tap.
    tapKernel: tapKernel(model, 'fc1'),
    clipNorm: 5,
    checkpoints: [],
    resume: { label: 'memory', load: async () => stored, save: async (d) => void (stored = d) },
    engine: timed(onnxTrainEngine({ runtime: o.runtime }), t)
  });
  t.total = performance.now() - t0;
  t.rest = t.total - t.open - t.steps - t.evaluate - t.flush;
  model.dispose();
  return t;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The validation alone, warm: `calls` evaluations of the 150 images on the open stepper and on TF.js, alternately (ms each). */
async function warmEvaluation(runtime: RuntimeChoice, calls: number): Promise<{ onnx: number[]; tfjs: number[] }> {
  const model = buildNetwork({ ...ARCHITECTURE_PRESETS['vgg-small'], inputSize: 32 }, 10, 1);
  const objective = { kind: 'labels', numClasses: 10 } as const;
  const val = noiseSet(150, { size: 32, classes: 10, seed: 2 });
  const opt = new MomentumSgd(0.9, 1e-4);
  const stepper = await onnxTrainEngine({ runtime }).open({
    name: 'evaluation (bench)',
    model,
    trainable: model.trainableWeights,
    objective,
    opt,
    tapKernel: null,
    imageSize: 32
  });
  const times = { onnx: [] as number[], tfjs: [] as number[] };
  const clock = async (into: number[], f: () => Promise<unknown>): Promise<void> => {
    const t0 = performance.now();
    await f();
    into.push(performance.now() - t0);
  };
  for (let i = 0; i <= calls; i++) {
    await clock(times.onnx, () => stepper.evaluate(val));
    await clock(times.tfjs, () => evaluate(model, objective, val));
  }
  stepper.dispose();
  opt.dispose();
  model.dispose();
  // The first call of each (session and kernels warming up) is left out.
  return { onnx: times.onnx.slice(1), tfjs: times.tfjs.slice(1) };
}
const PARTS = ['total', 'open', 'steps', 'evaluate', 'flush', 'rest'] as const;

/** Alternates the two evaluation paths `rounds` times (after one warm-up stage) and prints each run and the medians. */
export async function runStageSplitBench(o: { rounds: number; threads: number }): Promise<void> {
  await initBackend('wasm');
  const runtime = await chooseRuntime('cpu', o.threads);
  if ('error' in runtime) throw new Error(runtime.error);
  const runs: StageSplit[] = [];
  // One warm-up stage (loads the runtime and the wasm kernels), not counted.
  await benchStageSplit({ runtime, evaluation: 'onnx', epochs: 1 });
  for (let r = 0; r < o.rounds; r++)
    for (const evaluation of ['tfjs', 'onnx'] as const) {
      const t = await benchStageSplit({ runtime, evaluation });
      runs.push(t);
      console.log(
        JSON.stringify({
          round: r + 1,
          ...Object.fromEntries(Object.entries(t).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v) : v]))
        })
      );
    }
  for (const evaluation of ['tfjs', 'onnx'] as const) {
    const mine = runs.filter((t) => t.evaluation === evaluation);
    const med = Object.fromEntries(PARTS.map((p) => [p, median(mine.map((t) => t[p]))]));
    const share = PARTS.slice(1).map((p) => `${p} ${((100 * med[p]) / med.total).toFixed(1)} %`);
    console.log(
      `evaluation on ${evaluation}: median of ${mine.length}, ms: ${PARTS.map((p) => `${p} ${med[p].toFixed(0)}`).join(', ')}; ${share.join(', ')}`
    );
  }
  const warm = await warmEvaluation(runtime, 11);
  const say = (xs: number[]): string => `fastest ${Math.min(...xs).toFixed(1)}, median ${median(xs).toFixed(1)}`;
  console.log(`validation alone, warm, 150 images, ms: ONNX Runtime ${say(warm.onnx)}; TF.js ${say(warm.tfjs)}`);
}
