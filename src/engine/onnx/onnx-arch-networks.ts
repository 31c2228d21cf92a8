/*
 * The training of an ONNX-architecture experiment (onnx-arch-experiment.ts creates it), called by
 * runStudy (study/analyse.ts) as the experiment's job: the teacher's pretraining on a source dataset
 * when the run has one (onnx-arch-pretrain.ts), its fine-tuning, and per seed the
 * baseline and the student's two stages (onnx-arch-train.ts), each recorded in state.json with
 * its engine ('onnx cpu — 2 threads', as the other stages note it), resumed after its last saved epoch from models/<net>/<stage>/ (folderResume) and
 * read back instead of trained once done; live stage, epoch, rollback and progress events; each
 * network's analysed ONNX checkpoints, train-log.json and path-length.json (logged every step).
 * The early protocol checks run where the built-in runs run them (experiment/early-checks.ts,
 * checks.stopOnFail): teacher-beats-baseline after the first baseline, student-mimics-teacher and
 * tap-alive after each stage 1 (from its distill.json, onnx-arch-eval.ts).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { scaleCheckpoints, type OnnxRunConfig, type RunConfig } from '../../common/config';
import type { ExperimentEvent } from '../../common/events';
import { writeFileAtomic } from '../store/atomic';
import { netId, type ExperimentPaths } from '../experiment/paths';
import type { StateStore } from '../experiment/state';
import {
  folderResume,
  readDistillRecord,
  writeDistillRecord,
  writePathLength,
  writeTrainLog
} from '../experiment/record';
import { enforce, studentChecks, teacherCheck, type EarlyCheckContext } from '../experiment/early-checks';
import type { ImageSet } from '../training/batches';
import { hashSeed } from '../util/random';
import { prepareOnnxConfig, type PreparedOnnxRun } from './onnx-arch-run';
import { featureScale, trainOnnxStage, type OnnxStageRequest, type OnnxStageResult } from './onnx-arch-train';
import { belowTap, checkpointBytes, initialWeights, teacherWeights, type Weights } from './onnx-arch-weights';
import { distillObjective, distilsWhole } from './onnx-arch-method';
import { distillRecord } from './onnx-arch-eval';
import { chooseRuntime, threadsPerWorker, type RuntimeChoice } from './runtime';
import { fineTuneStart, loadSource, planForClasses } from './onnx-arch-pretrain';

/** Whether the student of seed index r has a stage 2 (epochs, and parameters above the tap). */
export const hasStage2 = (p: PreparedOnnxRun): boolean => {
  const below = belowTap(p.plan);
  return p.input.config.student.stage2.epochs > 0 && p.plan.trainable.some((n) => !below.has(n));
};

/** The ONNX-form configuration an experiment was frozen from (paths of the copies in its folder). */
export function onnxFormOf(config: RunConfig): OnnxRunConfig {
  const src = config.onnxRun!;
  const { study: _s, onnxRun: _o, architecture: _a, tap: _t, ...rest } = config;
  return {
    ...rest,
    architecture: src.architecture,
    tap: src.tap,
    teacher: { ...config.teacher, pretrained: src.pretrained }
  };
}

/** A finished stage's result read back from its resume folder (its last epoch's state): nothing is trained again. */
async function finished(f: { name: string; dir: string; start: Weights }): Promise<OnnxStageResult> {
  const data = await folderResume(f.dir).load();
  if (!data) throw new Error(`${f.dir}: stage '${f.name}' is marked done but its saved state is missing`);
  const weights: Weights = new Map(f.start);
  for (const a of data.weights) weights.set(a.name, a.values);
  const { logs, initialNorm, pathLength, epoch } = data.state;
  return {
    weights,
    losses: logs.map((l) => l.loss),
    logs,
    pathLength: initialNorm === null ? null : pathLength,
    initialNorm,
    rollbacks: logs.flatMap((l) => l.rollbacks ?? []),
    resumedFrom: epoch
  };
}

export interface OnnxTraining {
  workspace: string;
  config: RunConfig;
  paths: ExperimentPaths;
  state: StateStore;
  /** The target's training images at the architecture's input size. */
  train: ImageSet;
  /** The target's validation images (each epoch's valLoss and valAccuracy, the protocol checks), or null. */
  val: ImageSet | null;
  emit: (e: ExperimentEvent) => void;
  signal?: AbortSignal;
}

/** Trains (or resumes) every network of an ONNX-architecture experiment whose stages are not done yet. */
export async function trainOnnxNetworks(t: OnnxTraining): Promise<void> {
  const { config, paths, state, emit } = t;
  const early: EarlyCheckContext = { config, paths, state, emit };
  const c = onnxFormOf(config);
  const pretrains = c.teacher.source !== null && c.teacher.pretrained === null && c.teacher.pretrain.epochs > 0;
  const stages = [...(pretrains ? ['teacher pretrain'] : []), 'teacher finetune'];
  for (let r = 0; r < c.seeds; r++) {
    const suffix = r ? ` (seed ${r})` : '';
    stages.push(`baseline${suffix}`, `student stage 1${suffix}`, `student stage 2${suffix}`);
  }
  if (stages.every((s) => state.isDone(s))) return;
  const p = await prepareOnnxConfig(t.workspace, c);
  const runtime = await chooseRuntime(c.device, threadsPerWorker(1));
  if ('error' in runtime)
    throw new Error(`an ONNX architecture trains on ONNX Runtime, which did not load: ${runtime.error}`);
  const { plan } = p;
  const engine = `onnx ${runtime.provider} — ${runtime.threads} thread${runtime.threads === 1 ? '' : 's'}`;
  const base = { plan, set: t.train, runtime: runtime as RuntimeChoice };
  const training = (seed: number): OnnxStageRequest['training'] => ({
    momentum: c.training.momentum,
    weightDecay: c.training.weightDecay,
    augment: { flip: c.training.flip, cropPad: c.training.cropPad },
    seed,
    clipNorm: c.training.clipNorm ?? 0
  });
  const logs = new Map<string, OnnxStageResult['logs']>();

  /** One stage, or its result from its resume folder when state.json says it is done. */
  const stage = async (
    net: string,
    name: string,
    req: Omit<OnnxStageRequest, 'plan' | 'set' | 'runtime' | 'onCheckpoint' | 'name' | 'resume'> &
      Partial<Pick<OnnxStageRequest, 'plan' | 'set'>>
  ): Promise<OnnxStageResult> => {
    // The net tells the seeds apart: logs and folders name the stage as the other runs do ('student stage 1').
    const logged = name.replace(/ \(seed \d+\)$/, '');
    const dir = paths.stage(net, logged.replace(/ /g, '-'));
    await fs.mkdir(dir, { recursive: true });
    const resume = folderResume(dir);
    const onCheckpoint = (epoch: number, bytes: Uint8Array): Promise<void> =>
      writeFileAtomic(join(paths.net(net), `epoch-${epoch}.onnx`), bytes);
    const run = (): Promise<OnnxStageResult> =>
      trainOnnxStage({
        ...base,
        val: t.val,
        ...req,
        name,
        resume,
        onCheckpoint,
        signal: t.signal,
        onEpoch: (log) => emit({ type: 'epoch', net, epochs: req.stage.epochs, ...log, stage: logged }),
        onRollback: (rb) =>
          emit({
            type: 'log',
            level: 'warn',
            message: `${name}: the loss became ${rb.loss} at epoch ${rb.epoch}, step ${rb.step}; rolled back to ${rb.toStep ? `step ${rb.toStep} of the epoch` : "the epoch's start"}, ${rb.action === 'range-test' ? `rate capped at ${rb.lrCap?.toPrecision(3)} by a range test` : `rate halved (x${rb.lrScale})`}`
          }),
        onProgress: (fraction, text) => emit({ type: 'progress', stage: name, fraction, text, etaSeconds: null }),
        onRangeTest: (t, why) =>
          emit({
            type: 'log',
            level: why === 'auto' ? 'info' : 'warn',
            message: `${name}: learning-rate range test (${t.rates.length} steps, ${t.rates[0].toPrecision(2)} to ${t.rates[t.rates.length - 1].toPrecision(2)}): lowest loss at ${t.best.toPrecision(3)}, stable rate ${t.lr.toPrecision(3)}${why === 'auto' ? ' (lr "auto")' : ' (the cap after a second rollback)'}`
          })
      });
    const keep = (r: OnnxStageResult): void =>
      void logs.set(net, [...(logs.get(net) ?? []), ...r.logs.map((l) => ({ ...l, stage: logged }))]);
    if (state.isDone(name)) {
      const r = await finished({ name, dir, start: req.start });
      keep(r);
      return r;
    }
    const t0 = Date.now();
    await state.mark(name, 'running', { engine });
    emit({ type: 'stage', stage: name, status: 'running', engine });
    const r = await run();
    keep(r);
    await writeTrainLog(paths, net, logs.get(net)!);
    const seconds = (Date.now() - t0) / 1000;
    await state.mark(name, 'done', { seconds, engine });
    emit({ type: 'stage', stage: name, status: 'done', seconds, engine });
    return r;
  };
  const pathLengthLog = async (net: string, epochs: number[], r: OnnxStageResult): Promise<void> => {
    const perEpoch = r.pathLength!;
    await writePathLength(paths, {
      net,
      initialNorm: r.initialNorm,
      perEpoch,
      checkpoints: epochs.map((epoch) => ({ epoch, pathLength: perEpoch[epoch]! })),
      source: 'log'
    });
  };

  const teacherSeed = hashSeed(c.seed, 0x7e);
  // The teacher's own stream (as networks.ts seeds the built-in teacher): not the start of S and B of seed 0.
  let teacherStart = p.pretrained ? teacherWeights(plan, p.pretrained, teacherSeed) : initialWeights(plan, teacherSeed);
  if (p.source) {
    // Pretraining on the source (onnx-arch-pretrain.ts): the classifier sized to its classes, no checkpoints.
    const sourcePlan = planForClasses(plan, p.source.classes.length);
    let data: { train: ImageSet; val: ImageSet | null } | null = null;
    if (!state.isDone('teacher pretrain')) {
      emit({
        type: 'log',
        level: 'info',
        message: `loading source dataset '${p.source.id}' for the teacher's pretraining`
      });
      data = await loadSource({
        workspace: t.workspace,
        source: p.source,
        size: plan.inputSize,
        normalization: c.normalization
      });
    }
    const pre = await stage('T', 'teacher pretrain', {
      plan: sourcePlan,
      set: data?.train ?? t.train, // read back when done: no images needed
      val: data?.val ?? null,
      start: initialWeights(sourcePlan, teacherSeed),
      stage: c.teacher.pretrain,
      training: training(hashSeed(teacherSeed, 0x9e)),
      checkpoints: []
    });
    teacherStart = fineTuneStart(plan, pre.weights, teacherSeed);
  }
  const teacher = await stage('T', 'teacher finetune', {
    start: teacherStart,
    stage: c.teacher.finetune,
    training: training(hashSeed(c.seed, 0x7e)),
    checkpoints: [0, c.teacher.finetune.epochs]
  });
  const below = belowTap(plan);
  for (let r = 0; r < c.seeds; r++) {
    const suffix = r ? ` (seed ${r})` : '';
    const [s, b] = [netId('S', r), netId('B', r)];
    const start: Weights = initialWeights(plan, c.seed + r);
    const epochsB = scaleCheckpoints(c.checkpoints, c.baseline.epochs);
    const bl = await stage(b, `baseline${suffix}`, {
      start,
      stage: c.baseline,
      training: training(hashSeed(c.seed + r, 0xba)),
      checkpoints: epochsB
    });
    await pathLengthLog(b, epochsB, bl);
    // teacher-beats-baseline before any student trains (early-checks.ts, as the built-in runs).
    if (r === 0 && !state.isDone('student stage 1')) await enforce(early, 'the baseline', await teacherCheck(early, b));
    const epochs1 = scaleCheckpoints(c.checkpoints, c.student.stage1.epochs);
    const scale =
      state.isDone(`student stage 1${suffix}`) || c.student.method?.feature === false
        ? 1 // read back, not trained (or no feature term): the scale is not used
        : await featureScale(
            {
              ...base,
              start,
              stage: c.student.stage1,
              training: training(0),
              checkpoints: [],
              onCheckpoint: async () => undefined
            },
            teacher.weights,
            c.student.lossNormalization ?? 'mse'
          );
    // Logit and attention terms reach past the tap: stage 1 then trains every layer (as the TF.js stages).
    const method = c.student.method;
    const s1 = await stage(s, `student stage 1${suffix}`, {
      start,
      stage: c.student.stage1,
      training: training(hashSeed(c.seed + r, 0x51)),
      objective: distilsWhole(method)
        ? distillObjective(method!, teacher.weights, scale)
        : { kind: 'feature', teacher: teacher.weights, scale },
      trainable: distilsWhole(method) ? plan.trainable : plan.trainable.filter((n) => below.has(n)),
      checkpoints: epochs1
    });
    await pathLengthLog(s, epochs1, s1);
    if (!state.isDone(`student stage 2${suffix}`)) {
      // student-mimics-teacher and tap-alive from distill.json, written once stage 1 is done.
      if (!(await readDistillRecord(paths, s)))
        await writeDistillRecord(
          paths,
          await distillRecord({
            ...base,
            val: t.val,
            net: s,
            student: s1.weights,
            teacher: teacher.weights,
            normalization: c.student.lossNormalization ?? 'mse'
          })
        );
      await enforce(early, `${s} stage 1`, await studentChecks(early, s));
    }
    if (!hasStage2(p)) {
      if (!state.isDone(`student stage 2${suffix}`)) await state.mark(`student stage 2${suffix}`, 'skipped');
      continue;
    }
    const s2 = await stage(s, `student stage 2${suffix}`, {
      start: s1.weights,
      stage: c.student.stage2,
      training: training(hashSeed(c.seed + r, 0x52)),
      trainable: plan.trainable.filter((n) => !below.has(n)),
      checkpoints: []
    });
    await writeFileAtomic(join(paths.net(s), 'final.onnx'), checkpointBytes(plan, s2.weights));
  }
}
