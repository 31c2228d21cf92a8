/*
 * An honest time estimate for a run on this machine: time one training step of each kind (all
 * weights on labels, stage 1's feature regression, stage 2's head) on the run's training engine
 * (through the TrainEngine seam, as the stages run it) and one quantification step of
 * the configured architecture (calibrate), then count the steps the configuration asks for
 * (estimateRun). The quantification step is timed on the engine the run will use: ONNX Runtime
 * (with the run's threads per worker) when the configuration's engine is auto or onnx and the
 * runtime loads and compiles the model, TF.js otherwise; the set-up of that engine for one
 * quantification task (graph compilation, sessions) is timed too. Steps of the sigma optimisation
 * that stop early are counted from the entropy schedule, not guessed. The range tests of stages at
 * lr "auto" and the pre-launch probe are counted in estimate-extras.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { AnyRunConfig, Architecture, RunConfig, StageConfig } from '../common/config';
import { rangeTestSeconds, STEP_OVERHEAD } from './estimate-extras';
import { scaleCheckpoints } from '../common/config';
import { buildNetwork, layersUpTo } from './models/architectures';
import type { SigmaEngine, StepDims } from './knowledge/sigma';
import { selectForTfjs, type EngineRequest } from './onnx/select';
import { threadsPerWorker } from './onnx/runtime';
import { timeMedian } from './bench-cases';
import { selectTrainEngine, type TrainEngineRequest } from './onnx/select-train';
import { MomentumSgd } from './training/sgd';
import { tapFeature } from './knowledge/feature';
import type { Objective } from './training/stage';
import { Rng } from './util/random';

export interface Calibration {
  backend: string;
  /** ms of one SGD step at the calibration batch size (all weights, cross-entropy: teacher and baseline). */
  trainStepMs: number;
  /** ms of one stage-1 step: the teacher's tap feature, the student's to the tap and back (feature MSE). */
  stage1StepMs: number;
  /** ms of one stage-2 step: the whole network forward, only the layers above the tap trained. */
  stage2StepMs: number;
  batch: number;
  /** ms of one quantification step per image at K samples, images batched as the run batches them. */
  quantStepMsPerImage: number;
  samples: number;
  /** The engine that was timed, in its own words ('onnx cpu — 1 thread', 'tfjs (wasm) — requested'). */
  quantEngine: string;
  /** ms to set up the engine for one quantification task (compile, open sessions, clean features). */
  quantSetupMs: number;
  /** The training engine that was timed, in its own words (absent in calibrations made before it was recorded). */
  trainEngine?: string;
  /**
   * ms to compile and open one stage's step graph (ONNX architectures only, onnx-arch-estimate.ts: a
   * fixed cost of each stage, as large as many steps of a small network); absent: not counted.
   */
  stageOpenMs?: { train: number; stage1: number; stage2: number };
}

/** What calibrate times: the run's network, training batch, quantification sizes and engine. */
export interface CalibrationRequest {
  architecture: Architecture;
  numClasses: number;
  tap: string;
  /** Training batch of the timed SGD step. */
  batch: number;
  samples: number;
  grid: number;
  /** Images per quantification step (the configuration's quantification batch). */
  images: number;
  /** The run's engine request ('tfjs': TF.js on the active backend). */
  engine: EngineRequest;
  /** The run's training engine (absent: TF.js). */
  trainEngine?: TrainEngineRequest;
}

/** Timed calls per measurement and calls before them (the first steps allocate and compile). */
const CALIBRATION_RUNS = 5;
const CALIBRATION_WARMUP = 2;

/** The quantification workers of a run share the cores: one process uses them all, a pool splits them. */
export const quantThreads = (workers: number): number => threadsPerWorker(workers > 1 ? workers : 1);

/** The calibration a configuration needs (numClasses from its dataset). */
export function calibrationRequest(config: RunConfig, numClasses: number): CalibrationRequest {
  const q = config.quantification;
  const engine = { engine: config.engine, device: config.device, threads: quantThreads(config.workers) };
  return {
    architecture: config.architecture,
    numClasses,
    tap: config.tap,
    batch: 32,
    samples: q.samples,
    grid: q.grid,
    images: q.batch,
    engine,
    trainEngine: { engine: config.trainEngine, device: config.device, threads: threadsPerWorker(1) }
  };
}

/**
 * One loss-and-gradient step of `images` random images on an open stepper, ready to be timed (fresh
 * noise each call); the stepper's clean features are computed first.
 */
export async function sigmaStepOf(
  stepper: Awaited<ReturnType<SigmaEngine['open']>>,
  o: { dims: StepDims; images: number; rng: Rng }
): Promise<() => Promise<void>> {
  const { dims, images, rng } = o;
  const px = dims.height * dims.width * dims.channels;
  const inputs = rng.fillNormal(new Float32Array(images * px));
  const clean = await stepper.features(inputs, images);
  const sigma = new Float32Array(images * dims.grid * dims.grid).fill(0.01);
  const noise = new Float32Array(images * dims.samples * px);
  const step = {
    count: images,
    inputs,
    clean,
    sigma,
    lambdas: new Array<number>(images).fill(7),
    sigmaF2: new Array<number>(images).fill(1),
    noise
  };
  return async () => {
    rng.fillNormal(noise);
    await stepper.lossAndGradient(step);
  };
}

/** ms of one loss-and-gradient step of `images` images. */
export async function timeSigmaStep(engine: SigmaEngine, dims: StepDims, images: number, rng: Rng): Promise<number> {
  const stepper = await engine.open(dims);
  try {
    return await timeMedian(await sigmaStepOf(stepper, { dims, images, rng }), CALIBRATION_RUNS, CALIBRATION_WARMUP);
  } finally {
    stepper.dispose();
  }
}

/** ms of a task's set-up as a quantification worker does it: choose and compile the engine, open it, clean features. */
async function timeSetup(
  req: CalibrationRequest,
  model: tf.LayersModel,
  dims: StepDims,
  images: number
): Promise<{ ms: number; engine: SigmaEngine; note: string }> {
  const inputs = new Rng(2).fillNormal(new Float32Array(images * dims.height * dims.width * dims.channels));
  let last: { engine: SigmaEngine; note: string } | null = null;
  const ms = await timeMedian(
    async () => {
      last = await selectForTfjs(req.engine, model, { source: 'calibration network', tap: req.tap, dims });
      const stepper = await last.engine.open(dims);
      await stepper.features(inputs, images);
      stepper.dispose();
    },
    3,
    1
  );
  return { ms, ...last! };
}

export async function calibrate(req: CalibrationRequest): Promise<Calibration> {
  const { architecture: arch, numClasses, batch } = req;
  const model = buildNetwork(arch, numClasses, 1);
  const px = arch.inputSize;
  const rng = new Rng(1);
  try {
    const x = rng.fillNormal(new Float32Array(batch * px * px * 3));
    const labels = Int32Array.from({ length: batch }, (_, i) => i % numClasses);
    let trainEngine = '';
    const engine = selectTrainEngine(req.trainEngine ?? { engine: 'tfjs', device: 'cpu', threads: 1 }, (c) => {
      trainEngine = c.note;
    });
    /** ms of one step of a stage (through the TrainEngine seam, on the engine the run will train on). */
    const timeStep = async (trainable: tf.LayerVariable[], objective: Objective): Promise<number> => {
      const opt = new MomentumSgd(0.9, 5e-4);
      const stepper = await engine.open({
        name: 'calibration',
        model,
        trainable,
        objective,
        opt,
        tapKernel: null,
        imageSize: px
      });
      try {
        return await timeMedian(
          async () => void (await stepper.step({ x, labels, n: batch, lr: 0.01, clipNorm: 0, seed: 1 })),
          CALIBRATION_RUNS,
          CALIBRATION_WARMUP
        );
      } finally {
        stepper.dispose();
        opt.dispose();
      }
    };
    const labelsObjective: Objective = { kind: 'labels', numClasses };
    const trainStepMs = await timeStep(model.trainableWeights, labelsObjective);
    const below = layersUpTo(model, req.tap);
    const weights = (keep: (layer: string) => boolean): tf.LayerVariable[] =>
      model.layers.filter((l) => keep(l.name)).flatMap((l) => l.trainableWeights);
    // The teacher's feature is a forward pass of a network of the same architecture (this one stands in).
    const feature = tapFeature(model, req.tap);
    const stage1StepMs = await timeStep(
      weights((n) => below.has(n)),
      {
        kind: 'feature',
        student: feature,
        teacher: feature,
        scale: 1,
        source: { teacher: model, tap: req.tap }
      }
    );
    const head = weights((n) => !below.has(n));
    const stage2StepMs = head.length ? await timeStep(head, labelsObjective) : 0;
    const images = Math.max(1, req.images);
    const dims: StepDims = {
      height: px,
      width: px,
      channels: 3,
      grid: Math.min(req.grid, px),
      samples: req.samples,
      relu: true
    };
    const setup = await timeSetup(req, model, dims, images);
    const stepMs = await timeSigmaStep(setup.engine, dims, images, rng);
    return {
      backend: tf.getBackend(),
      trainStepMs,
      stage1StepMs,
      stage2StepMs,
      batch,
      quantStepMsPerImage: stepMs / images,
      samples: req.samples,
      quantEngine: setup.note,
      quantSetupMs: setup.ms,
      trainEngine
    };
  } finally {
    model.dispose();
  }
}

/**
 * Steps the calibrated optimisation needs when it only follows the entropy term: sigma grows by
 * lr * lambda / (G^2 sigma) per step, so sigma^2 grows by about 2 lr lambda / G^2 per step, from
 * sigmaInit^2 to the target's sigma^2. The feature term slows it; we double the count.
 */
export function expectedSigmaSteps(config: Pick<AnyRunConfig, 'quantification'>): number {
  const q = config.quantification;
  if (!q.stopPastTarget) return Math.min(q.steps, Math.max(q.steps - 21, 1) + 1);
  const target = Math.exp(q.targetEntropy - 0.5 * Math.log(2 * Math.PI * Math.E));
  const steps = ((target * target - 1e-4) * q.grid * q.grid) / (2 * q.lr * q.lambda);
  return Math.min(q.steps, Math.max(1, Math.ceil(2 * steps)));
}

export interface RunCounts {
  targetTrain: number;
  sourceTrain: number;
}

/** Entropy maps the run computes: analysed images x (teacher + each seed's S and B checkpoints), and the tasks they make. */
export function quantifyWork(config: AnyRunConfig, targetTrain: number): { maps: number; tasks: number } {
  const q = config.quantification;
  const checkpoints =
    scaleCheckpoints(config.checkpoints, config.student.stage1.epochs).length +
    scaleCheckpoints(config.checkpoints, config.baseline.epochs).length;
  const images = Math.min(q.images, targetTrain);
  const networks = 1 + config.seeds * checkpoints;
  return { maps: images * networks, tasks: networks * Math.ceil(images / q.batch) };
}

/**
 * Seconds per stage for a configuration, from a calibration and the dataset sizes, under the
 * runner's stage names (a stage of several seeds is the sum over them).
 */
export function estimateRun(
  config: AnyRunConfig,
  counts: RunCounts,
  cal: Calibration,
  cpus: number
): Record<string, number> {
  // Evaluation passes and checkpoint writes add about a fifth to training.
  const train = (epochs: number, n: number, stepMs = cal.trainStepMs): number =>
    (STEP_OVERHEAD * epochs * n * stepMs) / cal.batch / 1000;
  // A stage at lr "auto" runs a learning-rate range test before its first epoch (its own steps).
  const stage = (s: StageConfig, n: number, stepMs = cal.trainStepMs): number =>
    train(s.epochs, n, stepMs) + rangeTestSeconds(s, n, { cal, stepMs });
  const stages: Record<string, number> = {};
  if (config.teacher.source && !config.teacher.pretrained)
    stages['teacher pretrain'] = stage(config.teacher.pretrain, counts.sourceTrain);
  stages['teacher finetune'] = stage(config.teacher.finetune, counts.targetTrain);
  stages['student stage 1'] = config.seeds * stage(config.student.stage1, counts.targetTrain, cal.stage1StepMs);
  stages['student stage 2'] = config.seeds * stage(config.student.stage2, counts.targetTrain, cal.stage2StepMs);
  stages.baseline = config.seeds * stage(config.baseline, counts.targetTrain);
  const q = config.quantification;
  const { maps, tasks } = quantifyWork(config, counts.targetTrain);
  const stepMs = cal.quantStepMsPerImage * (q.samples / cal.samples);
  const workers = Math.max(1, Math.min(config.workers, cpus));
  const parallel = workers > 1 ? workers * 0.9 : 1;
  stages.quantify = (maps * (expectedSigmaSteps(config) + 2) * stepMs + tasks * cal.quantSetupMs) / 1000 / parallel;
  return stages;
}

/** How an estimate was made, in words: the measured speeds, the engine timed and the refinement. */
export function estimateBasis(cal: Calibration, refinement: string): string {
  const ms = (v: number): string => (v >= 10 ? v.toFixed(0) : v.toFixed(1));
  return `measured on this machine: ${ms(cal.trainStepMs)} ms per training step of ${cal.batch} (student stage 1 ${ms(cal.stage1StepMs)} ms, stage 2 ${ms(cal.stage2StepMs)} ms; ${cal.trainEngine ?? cal.backend}); quantification on ${cal.quantEngine}: ${ms(cal.quantStepMsPerImage)} ms per image per sigma step at K = ${cal.samples}, ${ms(cal.quantSetupMs)} ms to set up each task; ${refinement}`;
}
