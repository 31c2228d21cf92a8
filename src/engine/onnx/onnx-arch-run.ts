/*
 * A run whose architecture is an ONNX file (`architecture: { onnx, classifier }`): prepareOnnxRun
 * checks everything first (the file, the teacher file, the dataset, the stages; onnx-arch.ts names
 * the node) and writes nothing; trainOnnxRun then trains the teacher (fine-tuned from its pretrained
 * file, classifier replaced), each seed's student (stage 1 on the teacher's tap feature, stage 2 on
 * labels above the tap) and baseline (the student's start, all layers on labels) on ONNX Runtime,
 * writing every network's analysed epochs as ONNX files by the study folder convention (teacher/,
 * student-sN/, baseline-sN/ with epoch-E.onnx, final.onnx and path-length.csv) beside copies of
 * the .onnx inputs, and a study.json; `kd-lens analyse`'s code turns that folder into an
 * experiment (quantification, metrics.json, report), so the checkpoints are quantified like any
 * exported network's.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { scaleCheckpoints, type RunConfig } from '../../common/config';
import type { DatasetManifest } from '../../common/dataset';
import type { StudyFile } from '../../common/study';
import { loadDataset, datasetPath } from '../data/store';
import { loadImageSet, samplesOf } from '../training/data';
import type { ImageSet } from '../training/batches';
import { hashSeed } from '../util/random';
import { writeJsonAtomic } from '../store/atomic';
import { checkSameGraph, planOnnxArchitecture, type OnnxArchPlan } from './onnx-arch';
import { featureScale, trainOnnxStage, type OnnxStageRequest } from './onnx-arch-train';
import {
  belowTap,
  checkpointBytes,
  initialWeights,
  tapWeightName,
  teacherWeights,
  type Weights
} from './onnx-arch-weights';
import { readOnnxModel } from './onnx-file';
import type { ModelIr } from './ir';
import type { RuntimeChoice } from './runtime';

export interface OnnxRunInput {
  workspace: string;
  /** The run configuration; its `architecture` and `tap` fields are placeholders for the ONNX ones below. */
  config: RunConfig;
  /** Absolute path of the architecture's .onnx file, and the classifier node if named. */
  onnx: string;
  classifier: string | null;
  tap: string;
  /** Absolute path of the pretrained teacher's .onnx file, or null (the teacher starts from the seed). */
  teacher: string | null;
}

export interface PreparedOnnxRun {
  input: OnnxRunInput;
  plan: OnnxArchPlan;
  pretrained: ModelIr | null;
  manifest: DatasetManifest;
}

async function bytesOf(path: string, field: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (err) {
    throw new Error(`${field}: ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/** Every check before training; nothing is written. Refusals name the file, field or node. */
export async function prepareOnnxRun(input: OnnxRunInput): Promise<PreparedOnnxRun> {
  const { config } = input;
  const manifest = await loadDataset(input.workspace, config.dataset);
  const stages: [string, number | 'auto'][] = [
    ['teacher.finetune.lr', config.teacher.finetune.lr],
    ['student.stage1.lr', config.student.stage1.lr],
    ['student.stage2.lr', config.student.stage2.lr],
    ['baseline.lr', config.baseline.lr]
  ];
  for (const [field, lr] of stages)
    if (lr === 'auto') throw new Error(`${field}: "auto" is not available for an ONNX architecture yet; give a rate`);
  if (config.teacher.source !== null)
    throw new Error(
      `teacher.source: pretraining on a source dataset is not available for an ONNX architecture; give teacher.pretrained as an .onnx file (or null)`
    );
  if (config.student.method && (config.student.method.logits || config.student.method.attention))
    throw new Error('student.method: an ONNX architecture distils by the feature at the tap only (for now)');
  const plan = planOnnxArchitecture({
    bytes: await bytesOf(input.onnx, 'architecture.onnx'),
    file: input.onnx,
    classifier: input.classifier,
    tap: input.tap,
    imageSize: manifest.size,
    classes: manifest.classes.length,
    dataset: config.dataset,
    pretrained: input.teacher !== null && input.teacher === input.onnx
  });
  let pretrained: ModelIr | null = null;
  if (input.teacher) {
    pretrained = readOnnxModel(await bytesOf(input.teacher, 'teacher.pretrained'), input.teacher);
    if (input.teacher !== input.onnx)
      planOnnxArchitecture({
        bytes: await bytesOf(input.teacher, 'teacher.pretrained'),
        file: input.teacher,
        classifier: input.classifier,
        tap: input.tap,
        imageSize: manifest.size,
        classes: manifest.classes.length,
        dataset: config.dataset,
        pretrained: true
      });
    checkSameGraph(plan, pretrained);
  }
  if (!tapWeightName(plan))
    throw new Error(`${input.onnx}: tap '${input.tap}' has no trained Conv, Gemm or MatMul at or before it`);
  return { input, plan, pretrained, manifest };
}

/** One line per finding, for `kd-lens run` to print. */
export function describeOnnxRun(p: PreparedOnnxRun): string[] {
  const { plan } = p;
  const c = plan.classifier;
  const [ch, h, w] = plan.ir.input.shape;
  return [
    `architecture ${basename(plan.file)}: input ${ch}x${h}x${w} (NCHW float), ${plan.trainable.length} weight tensors trained`,
    `  classifier '${c.node}' (${c.op}): ${c.features} -> ${p.manifest.classes.length} classes (the file has ${c.outputs}), re-initialised`,
    `  tap '${plan.tap.name}' (value '${plan.tap.value}'; path length of '${tapWeightName(plan)}')`,
    `  teacher: ${p.input.teacher ? `starts from ${basename(p.input.teacher)}` : 'starts from the seed'}; students and baselines re-initialised from each seed`
  ];
}

const csv = (epochs: number[], path: number[], norm: number): string =>
  'epoch,path_length\n' + epochs.map((e) => `${e},${path[e] / norm}`).join('\n') + '\n';

/** Trains every network into `folder` (created; it must not exist) and returns the study file's path. */
export async function trainOnnxRun(
  p: PreparedOnnxRun,
  env: { folder: string; runtime: RuntimeChoice; say: (line: string) => void }
): Promise<string> {
  const { config, workspace } = p.input;
  const { plan } = p;
  const { folder, runtime, say } = env;
  await fs.mkdir(dirname(folder), { recursive: true });
  await fs.mkdir(folder, { recursive: false });
  await fs.copyFile(p.input.onnx, join(folder, 'architecture.onnx'));
  const teacherCopy = !p.input.teacher
    ? null
    : p.input.teacher === p.input.onnx
      ? join(folder, 'architecture.onnx')
      : join(folder, 'teacher-pretrained.onnx');
  if (teacherCopy && p.input.teacher !== p.input.onnx) await fs.copyFile(p.input.teacher!, teacherCopy);
  // The run as it ran, on the copies (the folder is self-contained).
  await writeJsonAtomic(join(folder, 'run.json'), {
    ...config,
    architecture: { onnx: join(folder, 'architecture.onnx'), classifier: p.input.classifier },
    tap: p.input.tap,
    teacher: { ...config.teacher, pretrained: teacherCopy }
  });
  const train: ImageSet = await loadImageSet(datasetPath(workspace, config.dataset), samplesOf(p.manifest, 'train'), {
    size: plan.inputSize,
    norm: config.normalization,
    withMasks: false
  });
  const training = (seed: number): OnnxStageRequest['training'] => ({
    momentum: config.training.momentum,
    weightDecay: config.training.weightDecay,
    augment: { flip: config.training.flip, cropPad: config.training.cropPad },
    seed,
    clipNorm: config.training.clipNorm ?? 0
  });
  const write = (dir: string) => async (epoch: number, bytes: Uint8Array) => {
    await fs.mkdir(join(folder, dir), { recursive: true });
    const file = join(folder, dir, `epoch-${epoch}.onnx`);
    await fs.writeFile(`${file}.tmp`, bytes);
    await fs.rename(`${file}.tmp`, file);
  };
  const base = { plan, set: train, runtime };
  const lr = (s: RunConfig['baseline']): OnnxStageRequest['stage'] => ({ ...s, lr: s.lr as number });

  const t0 = p.pretrained ? teacherWeights(plan, p.pretrained, config.seed) : initialWeights(plan, config.seed);
  say(`teacher: fine-tuning ${config.teacher.finetune.epochs} epochs on ${config.dataset}`);
  const teacher = await trainOnnxStage({
    ...base,
    start: t0,
    stage: lr(config.teacher.finetune),
    training: training(hashSeed(config.seed, 0x7e)),
    checkpoints: [0, config.teacher.finetune.epochs],
    onCheckpoint: write('teacher')
  });
  say(`  loss per epoch: ${teacher.losses.map((l) => l.toFixed(4)).join(' ')}`);
  const below = belowTap(plan);
  for (let r = 0; r < config.seeds; r++) {
    const start: Weights = initialWeights(plan, config.seed + r);
    const dir = `student-s${r}`;
    const epochs1 = scaleCheckpoints(config.checkpoints, config.student.stage1.epochs);
    const scale = await featureScale(
      {
        ...base,
        start,
        stage: lr(config.student.stage1),
        training: training(0),
        checkpoints: [],
        onCheckpoint: write(dir)
      },
      teacher.weights,
      config.student.lossNormalization ?? 'mse'
    );
    say(`student (seed ${r}): stage 1, ${config.student.stage1.epochs} epochs on the teacher's '${plan.tap.name}'`);
    const s1 = await trainOnnxStage({
      ...base,
      start,
      stage: lr(config.student.stage1),
      training: training(hashSeed(config.seed + r, 0x51)),
      objective: { kind: 'feature', teacher: teacher.weights, scale },
      trainable: plan.trainable.filter((n) => below.has(n)),
      checkpoints: epochs1,
      onCheckpoint: write(dir)
    });
    await fs.writeFile(join(folder, dir, 'path-length.csv'), csv(epochs1, s1.path!, s1.initialNorm!));
    const above = plan.trainable.filter((n) => !below.has(n));
    if (config.student.stage2.epochs > 0 && above.length) {
      say(`student (seed ${r}): stage 2, ${config.student.stage2.epochs} epochs on labels above the tap`);
      const s2 = await trainOnnxStage({
        ...base,
        start: s1.weights,
        stage: lr(config.student.stage2),
        training: training(hashSeed(config.seed + r, 0x52)),
        trainable: above,
        checkpoints: [],
        onCheckpoint: write(dir)
      });
      await fs.writeFile(join(folder, dir, 'final.onnx'), checkpointBytes(plan, s2.weights));
    }
    const bdir = `baseline-s${r}`;
    const epochsB = scaleCheckpoints(config.checkpoints, config.baseline.epochs);
    say(`baseline (seed ${r}): ${config.baseline.epochs} epochs on labels from the student's start`);
    const b = await trainOnnxStage({
      ...base,
      start,
      stage: lr(config.baseline),
      training: training(hashSeed(config.seed + r, 0xba)),
      checkpoints: epochsB,
      onCheckpoint: write(bdir)
    });
    await fs.writeFile(join(folder, bdir, 'path-length.csv'), csv(epochsB, b.path!, b.initialNorm!));
  }
  const study: StudyFile = {
    dataset: config.dataset,
    name: config.name,
    tap: plan.tap.name,
    normalization: config.normalization,
    quantification: config.quantification as unknown as Record<string, unknown>,
    seed: config.seed,
    workers: config.workers,
    engine: config.engine,
    device: config.device,
    verdicts: config.verdicts
  };
  const file = join(folder, 'study.json');
  await writeJsonAtomic(file, study);
  return file;
}
