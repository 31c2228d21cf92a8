/*
 * The pre-launch probe (experiment/probe.ts) for a run whose architecture is an ONNX file: does the
 * source set (or the teacher file's weights) help on the target? The same protocol as the built-in
 * probe, on the ONNX stages the run itself trains with (onnx-arch-train.ts): a few epochs of
 * pretraining on a seeded subsample of the source (the classifier sized to its classes), a few
 * epochs of fine-tuning on the target from that trunk (or from the file's weights), against the
 * same few target epochs of the baseline from seed 0's start; the last epoch's accuracy on the
 * target's validation images (its training images when it has none). Writes nothing.
 */
import type { OnnxRunConfig, StageConfig } from '../../common/config';
import { datasetPath, loadDataset } from '../data/store';
import { loadImageSet, samplesOf } from '../training/data';
import type { ImageSet } from '../training/batches';
import { Rng, hashSeed } from '../util/random';
import { PROBE_SOURCE_IMAGES } from '../estimate-extras';
import {
  probeEpochs,
  probeVerdict,
  requireProbeTeacher,
  type ProbeOptions,
  type ProbeResult
} from '../experiment/probe';
import { prepareOnnxConfig } from './onnx-arch-run';
import { trainOnnxStage, type OnnxStageRequest } from './onnx-arch-train';
import type { EpochLog } from '../../common/record-schemas';
import { initialWeights, teacherWeights, type Weights } from './onnx-arch-weights';
import { fineTuneStart, planForClasses } from './onnx-arch-pretrain';
import { chooseRuntime, threadsPerWorker } from './runtime';

export interface OnnxProbeOptions extends ProbeOptions {
  /** Each probe stage's epochs as they end ('probe pretrain', 'probe fine-tune', 'probe baseline'). */
  onEpoch?: (stage: string, log: EpochLog) => void;
}

/** A dataset's images of one split at the architecture's input size (at most `limit`, drawn with the run's seed). */
async function imagesOf(o: {
  workspace: string;
  id: string;
  config: OnnxRunConfig;
  size: number;
  pick: { split: 'train' | 'val'; limit?: number };
}): Promise<ImageSet | null> {
  const manifest = await loadDataset(o.workspace, o.id);
  let samples = samplesOf(manifest, o.pick.split);
  if (o.pick.limit !== undefined && samples.length > o.pick.limit)
    samples = new Rng(hashSeed(o.config.seed, 0x9b0e)).shuffle([...samples]).slice(0, o.pick.limit);
  if (!samples.length) return null;
  return loadImageSet(datasetPath(o.workspace, o.id), samples, {
    size: o.size,
    norm: o.config.normalization,
    withMasks: false
  });
}

/**
 * Runs the probe for an ONNX-form configuration (its .onnx paths absolute) whose teacher has a
 * source set or starts from the file's weights; the checks of `kd-lens run` first (prepareOnnxRun).
 */
export async function probeOnnxSource(
  workspace: string,
  config: OnnxRunConfig,
  options: OnnxProbeOptions = {}
): Promise<ProbeResult> {
  const t0 = Date.now();
  requireProbeTeacher(config);
  const p = await prepareOnnxConfig(workspace, config);
  const runtime = await chooseRuntime(config.device, threadsPerWorker(1));
  if ('error' in runtime) throw new Error(`the probe of an ONNX architecture needs ONNX Runtime: ${runtime.error}`);
  const say = options.onProgress ?? (() => undefined);
  const { plan } = p;
  const { epochs, pretrainEpochs } = probeEpochs(config, options, !!p.source);
  const images = (id: string, pick: { split: 'train' | 'val'; limit?: number }) =>
    imagesOf({ workspace, id, config, size: plan.inputSize, pick });
  say(`probe: loading '${config.dataset}'`);
  const train = await images(config.dataset, { split: 'train' });
  if (!train) throw new Error(`dataset '${config.dataset}' has no training samples`);
  const val = await images(config.dataset, { split: 'val' });
  const stage = (
    name: string,
    req: Pick<OnnxStageRequest, 'start' | 'stage'> & Partial<Pick<OnnxStageRequest, 'plan' | 'set' | 'val'>>,
    seed: number
  ) =>
    trainOnnxStage({
      plan,
      set: train,
      val: val ?? train,
      runtime,
      training: {
        momentum: config.training.momentum,
        weightDecay: config.training.weightDecay,
        augment: { flip: config.training.flip, cropPad: config.training.cropPad },
        seed,
        clipNorm: config.training.clipNorm ?? 0
      },
      checkpoints: [],
      onCheckpoint: async () => undefined,
      name,
      signal: options.signal,
      onEpoch: (log) => options.onEpoch?.(name, log),
      ...req
    });
  const short = (s: StageConfig): StageConfig => ({ ...s, epochs });
  const teacherSeed = hashSeed(config.seed, 0x7e);
  let start: Weights;
  let sourceImages = 0;
  if (p.source) {
    say(`probe: pretraining ${pretrainEpochs} epoch(s) on '${p.source.id}'`);
    const src = await images(p.source.id, { split: 'train', limit: options.sourceImages ?? PROBE_SOURCE_IMAGES });
    if (!src) throw new Error(`source dataset '${p.source.id}' has no training samples`);
    sourceImages = src.n;
    const sourcePlan = planForClasses(plan, p.source.classes.length);
    const pre = await stage(
      'probe pretrain',
      {
        plan: sourcePlan,
        set: src,
        val: null,
        start: initialWeights(sourcePlan, teacherSeed),
        stage: { ...config.teacher.pretrain, epochs: pretrainEpochs }
      },
      hashSeed(teacherSeed, 0x9e)
    );
    start = fineTuneStart(plan, pre.weights, teacherSeed);
  } else start = teacherWeights(plan, p.pretrained!, teacherSeed);
  say(`probe: fine-tuning the teacher ${epochs} epoch(s) and training the baseline ${epochs} epoch(s)`);
  const teacher = await stage('probe fine-tune', { start, stage: short(config.teacher.finetune) }, teacherSeed);
  const baseline = await stage(
    'probe baseline',
    { start: initialWeights(plan, config.seed), stage: short(config.baseline) },
    hashSeed(config.seed, 0xba)
  );
  const accuracy = (logs: { valAccuracy?: number | null }[]): number => logs.at(-1)?.valAccuracy ?? NaN;
  return probeVerdict({
    config,
    sourceImages,
    pretrainEpochs,
    epochs,
    teacher: accuracy(teacher.logs),
    baseline: accuracy(baseline.logs),
    evaluatedOn: val ? 'validation' : 'training',
    seconds: (Date.now() - t0) / 1000
  });
}
