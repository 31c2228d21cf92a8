/*
 * The time estimate of a run whose architecture is an ONNX file (issue 17). The built-in estimate
 * (estimate.ts) times a network it builds itself; here the user's own network is timed instead:
 * the training step graphs the run's stages compile (onnx-arch-stepper.ts) for its input size, at
 * the calibration batch, each run a few times on ONNX Runtime after a warm-up step (all weights on
 * labels: teacher pretrain and fine-tune, baseline; student stage 1 with its own objective and
 * trained layers; student stage 2 above the tap), and one quantification step of a checkpoint of
 * that graph (its ONNX form as the study reads it) on the engine the run will quantify with, with
 * the set-up of that engine for one task. Compiling and opening each stage's step graph is timed
 * too: a fixed cost per stage that outweighs many steps of a small network. The Calibration then
 * goes through the same arithmetic as a built-in run (estimateRun, estimateProbe): epochs x images
 * per stage at the timed step, plus the quantification's maps and tasks, plus each stage's opening.
 * The timer is a seam: tests give one that counts.
 */
import type { OnnxRunConfig } from '../../common/config';
import { estimateRun, quantThreads, sigmaStepOf, type Calibration, type RunCounts } from '../estimate';
import { estimateProbe } from '../estimate-extras';
import { timeMedian } from '../bench-cases';
import { Rng } from '../util/random';
import type { StepDims } from '../knowledge/sigma';
import { prepareOnnxConfig, type PreparedOnnxRun } from './onnx-arch-run';
import { hasStage2 } from './onnx-arch-networks';
import { openStepper, type OnnxObjective, type OnnxStepper } from './onnx-arch-stepper';
import { belowTap, checkpointBytes, initialWeights } from './onnx-arch-weights';
import { distillObjective, distilsWhole } from './onnx-arch-method';
import { readOnnxModel } from './onnx-file';
import { foldConstants } from './fold';
import { selectEngine } from './select';
import { chooseRuntime, threadsPerWorker, type RuntimeChoice } from './runtime';
import { CompileError } from './rules/rule';

/** What is timed: a training step of each kind, a sigma step of the quantification, a task's set-up. */
export type StepPart = 'train' | 'stage 1' | 'stage 2';
/** ... and the compilation and opening of each kind's step graph (once per stage). */
export type TimedPart = StepPart | `open ${StepPart}` | 'sigma step' | 'set-up';

/** Times `run` (a real step or set-up) and returns ms per call; the default runs a warm-up first. */
export type PartTimer = (part: TimedPart, run: () => Promise<void>) => Promise<number>;

/** Calls timed per part after one warm-up call (the first step allocates; a network's step can take seconds). */
export const ONNX_CALIBRATION_RUNS = 3;
/** The largest calibration batch (a stage's own batch when smaller): the steps are timed per image. */
export const ONNX_CALIBRATION_BATCH = 32;

/** A warm-up call slower than this (ms) is followed by one timed call only: a large network's estimate stays short. */
export const SLOW_CALL_MS = 1000;

/**
 * The default timer: a graph is opened once; anything else gets one warm-up call, then the median of
 * ONNX_CALIBRATION_RUNS calls (the set-up: of 2), or one call when the warm-up took over SLOW_CALL_MS.
 */
export const medianTimer: PartTimer = async (part, run) => {
  if (part.startsWith('open ')) return timeMedian(run, 1, 0);
  const t0 = performance.now();
  await run();
  const slow = performance.now() - t0 > SLOW_CALL_MS;
  return timeMedian(run, slow ? 1 : part === 'set-up' ? 2 : ONNX_CALIBRATION_RUNS, 0);
};

/** The calibration batch of a configuration: its fine-tune batch, at most ONNX_CALIBRATION_BATCH. */
export const onnxCalibrationBatch = (c: OnnxRunConfig): number =>
  Math.max(1, Math.min(ONNX_CALIBRATION_BATCH, c.teacher.finetune.batchSize));

/**
 * What a calibration depends on (the host caches one per key): the file and choices that make the
 * step graphs, the batch, the quantification's sizes and engine; not epochs, seeds or rates.
 */
export function onnxCalibrationKey(c: OnnxRunConfig, file: { size: number; mtimeMs: number }): string {
  const q = c.quantification;
  return JSON.stringify([
    c.architecture,
    file,
    c.tap,
    c.dataset,
    c.student.method ?? null,
    c.student.stage2.epochs > 0,
    onnxCalibrationBatch(c),
    [q.samples, q.grid, q.batch, q.relu],
    [c.engine, c.device, c.workers]
  ]);
}

/** The student stage 1 of the run: its objective (the teacher stands in with the same start) and trained layers. */
function stage1Of(
  p: PreparedOnnxRun,
  start: Map<string, Float32Array>
): { objective: OnnxObjective; trainable: string[] } {
  const { plan } = p;
  const method = p.input.config.student.method;
  if (distilsWhole(method)) return { objective: distillObjective(method!, start, 1), trainable: plan.trainable };
  const below = belowTap(plan);
  return {
    objective: { kind: 'feature', teacher: start, scale: 1 },
    trainable: plan.trainable.filter((n) => below.has(n))
  };
}

/**
 * Times the run's own training steps and quantification step on this machine (see the header).
 * `prepared` comes from prepareOnnxRun (the run's checks passed); `timer` defaults to medianTimer.
 */
export async function calibrateOnnxArch(
  prepared: PreparedOnnxRun,
  o: { timer?: PartTimer; runtime?: RuntimeChoice } = {}
): Promise<Calibration> {
  const timer = o.timer ?? medianTimer;
  const config = prepared.input.config;
  const { plan } = prepared;
  let runtime: RuntimeChoice | { error: string } | undefined = o.runtime;
  runtime ??= await chooseRuntime(config.device, threadsPerWorker(1));
  if ('error' in runtime)
    throw new Error(`an ONNX architecture trains on ONNX Runtime, which did not load: ${runtime.error}`);
  const rt = runtime;
  const batch = onnxCalibrationBatch(config);
  const s = plan.inputSize;
  const rng = new Rng(1);
  const start = initialWeights(plan, config.seed);
  const classes = prepared.manifest.classes.length;
  const x = rng.fillNormal(new Float32Array(batch * s * s * 3));
  const labels = Int32Array.from({ length: batch }, (_, i) => i % classes);
  /** ms to open the step graph of a stage and ms per step (the open stepper's steps, each from the start state). */
  const timeStep = async (
    part: StepPart,
    stage: { objective: OnnxObjective; trainable: readonly string[] }
  ): Promise<{ open: number; step: number }> => {
    let stepper: OnnxStepper | null = null;
    const open = await timer(`open ${part}`, async () => {
      await stepper?.release();
      stepper = await openStepper({
        plan,
        ...stage,
        momentum: config.training.momentum,
        weightDecay: config.training.weightDecay,
        runtime: rt,
        weights: start,
        momenta: new Map()
      });
    });
    const opened = stepper as OnnxStepper | null;
    if (!opened) throw new Error(`the calibration did not open the ${part} step`);
    try {
      let seed = 0;
      const step = await timer(part, async () => {
        // Each step from the same state, as a stage's next step would be (its outputs dropped).
        await opened.step({ x, labels, n: batch, seed: ++seed }, 0.01, config.training.clipNorm ?? 0);
      });
      return { open, step };
    } finally {
      await opened.release();
    }
  };
  const train = await timeStep('train', { objective: { kind: 'labels' }, trainable: plan.trainable });
  const stage1 = await timeStep('stage 1', stage1Of(prepared, start));
  const below = belowTap(plan);
  const stage2 = hasStage2(prepared)
    ? await timeStep('stage 2', {
        objective: { kind: 'labels' },
        trainable: plan.trainable.filter((n) => !below.has(n))
      })
    : { open: 0, step: 0 };
  const quant = await timeQuantification(prepared, { start, timer });
  return {
    backend: 'onnxruntime',
    trainStepMs: train.step,
    stage1StepMs: stage1.step,
    stage2StepMs: stage2.step,
    stageOpenMs: { train: train.open, stage1: stage1.open, stage2: stage2.open },
    batch,
    quantStepMsPerImage: quant.stepMs / quant.images,
    samples: config.quantification.samples,
    quantEngine: quant.note,
    quantSetupMs: quant.setupMs,
    trainEngine: rt.reason
  };
}

/** A sigma step and a task's set-up on a checkpoint of the run's graph (its start weights), as the study quantifies. */
async function timeQuantification(
  p: PreparedOnnxRun,
  o: { start: Map<string, Float32Array>; timer: PartTimer }
): Promise<{ stepMs: number; setupMs: number; images: number; note: string }> {
  const config = p.input.config;
  const q = config.quantification;
  const px = p.plan.inputSize;
  const images = Math.max(1, Math.min(q.images, q.batch));
  const dims: StepDims = {
    height: px,
    width: px,
    channels: 3,
    grid: Math.min(q.grid, px),
    samples: q.samples,
    relu: q.relu
  };
  const request = { engine: config.engine, device: config.device, threads: quantThreads(config.workers) };
  const bytes = checkpointBytes(p.plan, o.start);
  const inputs = new Rng(2).fillNormal(new Float32Array(images * px * px * 3));
  const open = async () => {
    const rt = await chooseRuntime(config.device, request.threads);
    if ('error' in rt) throw new Error(`the quantification of an ONNX architecture needs ONNX Runtime: ${rt.error}`);
    const ir = await foldConstants(readOnnxModel(bytes, p.plan.file), rt.ort);
    return selectEngine(request, { ir: () => ir, tfModel: null, tap: config.tap, dims });
  };
  let choice = await open();
  const setupMs = await o.timer('set-up', async () => {
    choice = await open();
    const stepper = await choice.engine.open(dims);
    await stepper.features(inputs, images);
    stepper.dispose();
  });
  const stepper = await choice.engine.open(dims);
  try {
    const stepMs = await o.timer('sigma step', await sigmaStepOf(stepper, { dims, images, rng: new Rng(3) }));
    return { stepMs, setupMs, images, note: choice.note };
  } finally {
    stepper.dispose();
  }
}

/** Seconds per stage and of the probe for an ONNX-architecture run, from its calibration (estimateRun's arithmetic). */
export function estimateOnnxRun(
  config: OnnxRunConfig,
  o: { counts: RunCounts; cal: Calibration; cpus: number }
): { stages: Record<string, number>; seconds: number; probe: number | null } {
  const stages = estimateRun(config, o.counts, o.cal, o.cpus);
  // The stages an ONNX run skips: no pretraining without epochs, no stage 2 without layers above the tap.
  if (config.teacher.pretrain.epochs === 0) delete stages['teacher pretrain'];
  if (o.cal.stage2StepMs === 0) delete stages['student stage 2'];
  // Each stage (of each seed) compiles and opens its step graph once.
  const open = o.cal.stageOpenMs ?? { train: 0, stage1: 0, stage2: 0 };
  const opens: [string, number][] = [
    ['teacher pretrain', open.train],
    ['teacher finetune', open.train],
    ['baseline', config.seeds * open.train],
    ['student stage 1', config.seeds * open.stage1],
    ['student stage 2', config.seeds * open.stage2]
  ];
  for (const [stage, ms] of opens) if (stages[stage] !== undefined) stages[stage] += ms / 1000;
  return {
    stages,
    seconds: Object.values(stages).reduce((a, b) => a + b, 0),
    probe: estimateProbe(config, o.counts, o.cal)
  };
}

/** The basis's opening words: what was timed for this network. */
export function onnxBasisNote(cal: Calibration, p: { file: string; inputSize: number }): string {
  return `timed on your ONNX network's own compiled training steps (${p.file}: ${cal.batch} images of ${p.inputSize} px, after a warm-up step); not corrected by finished runs (those are of built-in architectures)`;
}

/**
 * A calibration job's answer: the calibration, or the compiler's refusal of the network (a step graph
 * of a stage that the run's checks did not compile), which the host returns as the caller's mistake.
 */
export type OnnxCalibrationResult = { calibration: Calibration } | { refused: string };

/** A calibration job's work: the run's checks (prepareOnnxRun, its .onnx paths absolute), then its timing. */
export async function calibrateOnnxRun(workspace: string, config: OnnxRunConfig): Promise<OnnxCalibrationResult> {
  try {
    const prepared = await prepareOnnxConfig(workspace, config);
    return { calibration: await calibrateOnnxArch(prepared) };
  } catch (err) {
    if (err instanceof CompileError) return { refused: err.message };
    throw err;
  }
}
