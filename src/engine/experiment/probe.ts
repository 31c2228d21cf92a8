/*
 * The pre-launch probe (issue 20): does the chosen source set (or pretrained teacher) help on the
 * target at all? A few epochs of pretraining on a seeded subsample of the source, a few epochs of
 * fine-tuning on the target, against the same few target epochs of the baseline from the student's
 * initial weights, on the real engine and the run's own stage settings; the two validation
 * accuracies and whether the teacher leads. Under a minute at the defaults, so that a source that
 * does not help is named before the whole run is paid for. Writes nothing.
 */
import * as tf from '@tensorflow/tfjs';
import type { RunConfig, StageConfig } from '../../common/config';
import type { SourceProbe } from '../../common/api';
import { loadDataset, datasetPath } from '../data/store';
import { buildNetwork } from '../models/architectures';
import { loadLayersModelFromDir } from '../store/model-files';
import { evaluate, runStage } from '../training/stage';
import type { ResumeStore } from '../training/resume';
import { loadImageSet, samplesOf, type ImageSet } from '../training/data';
import { Rng, hashSeed } from '../util/random';
import { initSeed } from './networks';
import { copyWeights } from './teacher';
import { PROBE_MAX_EPOCHS, PROBE_MAX_PRETRAIN_EPOCHS, PROBE_SOURCE_IMAGES } from '../estimate-extras';

export interface ProbeOptions {
  /** Target epochs of fine-tuning and of the baseline (default: min(3, the run's)). */
  epochs?: number;
  /** Pretraining epochs on the source (default: min(2, the run's)). */
  pretrainEpochs?: number;
  /** At most this many source images, drawn with the run's seed (default 1024). */
  sourceImages?: number;
  onProgress?: (text: string) => void;
  signal?: AbortSignal;
}

/** The probe's answer (its type lives with the API: common/api-experiments.ts). */
export type ProbeResult = SourceProbe;

const noResume: ResumeStore = {
  label: 'the probe (not resumable)',
  load: async () => null,
  save: async () => undefined
};
const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;

async function load(
  workspace: string,
  id: string,
  config: RunConfig,
  pick: { split: 'train' | 'val'; limit?: number }
): Promise<{ set: ImageSet | null; classes: string[] }> {
  const manifest = await loadDataset(workspace, id);
  let samples = samplesOf(manifest, pick.split);
  if (pick.limit !== undefined && samples.length > pick.limit)
    samples = new Rng(hashSeed(config.seed, 0x9b0e)).shuffle([...samples]).slice(0, pick.limit);
  const set = samples.length
    ? await loadImageSet(datasetPath(workspace, id), samples, {
        size: config.architecture.inputSize,
        norm: config.normalization,
        withMasks: false
      })
    : null;
  return { set, classes: manifest.classes };
}

/** The probe's answer from its two accuracies (both engines: this file and onnx/onnx-arch-probe.ts). */
export function probeVerdict(
  r: Pick<
    ProbeResult,
    'sourceImages' | 'pretrainEpochs' | 'epochs' | 'teacher' | 'baseline' | 'evaluatedOn' | 'seconds'
  > & {
    config: { teacher: Pick<ProbeResult, 'source' | 'pretrained'> };
  }
): ProbeResult {
  const { source, pretrained } = r.config.teacher;
  const { epochs, teacher: t, baseline: b } = r;
  const helps = t > b;
  const from = pretrained
    ? `the pretrained teacher '${pretrained}'`
    : `the source '${source}' (${r.pretrainEpochs} epoch(s) on ${r.sourceImages} images)`;
  const said = `probe: after ${epochs} target epoch(s) the teacher from ${from} reaches ${pct(t)} against the baseline's ${pct(b)} (${r.evaluatedOn} accuracy)`;
  return {
    source,
    pretrained,
    sourceImages: r.sourceImages,
    pretrainEpochs: r.pretrainEpochs,
    epochs,
    teacher: t,
    baseline: b,
    evaluatedOn: r.evaluatedOn,
    helps,
    seconds: r.seconds,
    message: helps
      ? `${said}: the source helps`
      : `${said}: the source does not help; the run would likely stop at teacher-beats-baseline (choose another source, a pretrained teacher, or a longer fine-tune)`
  };
}

/** The probe needs a teacher from a source set or pretrained weights; refuses a configuration with neither. */
export function requireProbeTeacher(config: Pick<RunConfig, 'teacher'>): void {
  const { source, pretrained } = config.teacher;
  if (!source && !pretrained)
    throw new Error(
      'the probe compares a teacher from a source set or pretrained weights with the baseline; this configuration has neither'
    );
}

/**
 * The probe's epochs: the fine-tune and the baseline at most PROBE_MAX_EPOCHS (and at most the
 * run's), the source pretraining (none without a source) at most PROBE_MAX_PRETRAIN_EPOCHS.
 */
export function probeEpochs(
  config: Pick<RunConfig, 'teacher' | 'baseline'>,
  options: Pick<ProbeOptions, 'epochs' | 'pretrainEpochs'>,
  fromSource: boolean
): { epochs: number; pretrainEpochs: number } {
  const epochs =
    options.epochs ?? Math.max(1, Math.min(PROBE_MAX_EPOCHS, config.teacher.finetune.epochs, config.baseline.epochs));
  const pretrainEpochs = fromSource
    ? (options.pretrainEpochs ?? Math.max(1, Math.min(PROBE_MAX_PRETRAIN_EPOCHS, config.teacher.pretrain.epochs)))
    : 0;
  return { epochs, pretrainEpochs };
}

/** Runs the probe for a configuration whose teacher has a source set or pretrained weights. */
export async function probeSource(
  workspace: string,
  config: RunConfig,
  options: ProbeOptions = {}
): Promise<ProbeResult> {
  const t0 = Date.now();
  const { source, pretrained } = config.teacher;
  requireProbeTeacher(config);
  const say = options.onProgress ?? (() => undefined);
  const { epochs, pretrainEpochs } = probeEpochs(config, options, !pretrained);
  say(`probe: loading '${config.dataset}'`);
  const target = await load(workspace, config.dataset, config, { split: 'train' });
  const val = await load(workspace, config.dataset, config, { split: 'val' });
  if (!target.set) throw new Error(`dataset '${config.dataset}' has no training samples`);
  const evalSet = val.set ?? target.set;
  const classes = target.classes.length;
  const stage = (cfg: StageConfig): StageConfig => ({ ...cfg, epochs });
  const common = {
    momentum: config.training.momentum,
    weightDecay: config.training.weightDecay,
    clipNorm: config.training.clipNorm ?? null,
    augment: { flip: config.training.flip, cropPad: config.training.cropPad },
    tapKernel: null,
    checkpoints: [],
    resume: noResume,
    signal: options.signal
  };
  const labels = (n: number) => ({ kind: 'labels' as const, numClasses: n });
  const teacherSeed = hashSeed(config.seed, 0x7e);
  let sourceImages = 0;
  const models: tf.LayersModel[] = [];
  try {
    const teacher = buildNetwork(config.architecture, classes, teacherSeed, 'probe_teacher');
    models.push(teacher);
    if (pretrained) {
      const pre = await loadLayersModelFromDir(pretrained);
      models.push(pre);
      copyWeights(pre, teacher, new Set(['fc3']));
    } else {
      say(`probe: pretraining ${pretrainEpochs} epoch(s) on '${source}'`);
      const src = await load(workspace, source!, config, {
        split: 'train',
        limit: options.sourceImages ?? PROBE_SOURCE_IMAGES
      });
      if (!src.set) throw new Error(`source dataset '${source}' has no training samples`);
      sourceImages = src.set.n;
      const pre = buildNetwork(config.architecture, src.classes.length, teacherSeed, 'probe_pretrain');
      models.push(pre);
      await runStage({
        ...common,
        name: 'probe pretrain',
        model: pre,
        trainable: pre.trainableWeights,
        objective: labels(src.classes.length),
        config: { ...config.teacher.pretrain, epochs: pretrainEpochs },
        train: src.set,
        val: null,
        seed: teacherSeed
      });
      copyWeights(pre, teacher, new Set(['fc3']));
    }
    say(`probe: fine-tuning the teacher ${epochs} epoch(s) and training the baseline ${epochs} epoch(s)`);
    await runStage({
      ...common,
      name: 'probe fine-tune',
      model: teacher,
      trainable: teacher.trainableWeights,
      objective: labels(classes),
      config: stage(config.teacher.finetune),
      train: target.set,
      val: null,
      seed: hashSeed(teacherSeed, 1)
    });
    const baseline = buildNetwork(config.architecture, classes, initSeed(config, 0), 'probe_baseline');
    models.push(baseline);
    await runStage({
      ...common,
      name: 'probe baseline',
      model: baseline,
      trainable: baseline.trainableWeights,
      objective: labels(classes),
      config: stage(config.baseline),
      train: target.set,
      val: null,
      seed: hashSeed(config.seed, 0xb0)
    });
    const t = (await evaluate(teacher, labels(classes), evalSet)).accuracy!;
    const b = (await evaluate(baseline, labels(classes), evalSet)).accuracy!;
    return probeVerdict({
      config,
      sourceImages,
      pretrainEpochs,
      epochs,
      teacher: t,
      baseline: b,
      evaluatedOn: val.set ? 'validation' : 'training',
      seconds: (Date.now() - t0) / 1000
    });
  } finally {
    for (const m of models) m.dispose();
  }
}
