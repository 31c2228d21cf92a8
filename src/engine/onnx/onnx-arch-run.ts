/*
 * A run whose architecture is an ONNX file (`architecture: { onnx, classifier }`): prepareOnnxRun
 * checks everything the configuration's schema cannot (the file, the teacher file, the dataset;
 * onnx-arch.ts names the node) and writes nothing; describeOnnxRun says what it found. The
 * experiment that trains it is onnx-arch-experiment.ts.
 */
import { promises as fs } from 'node:fs';
import { basename } from 'node:path';
import type { OnnxRunConfig } from '../../common/config';
import type { DatasetManifest } from '../../common/dataset';
import { loadDataset } from '../data/store';
import { checkSameGraph, planOnnxArchitecture, type OnnxArchPlan } from './onnx-arch';
import { tapWeightName } from './onnx-arch-weights';
import { attentionShapes, checkStudentMethod, distilsWhole } from './onnx-arch-method';
import { readOnnxModel } from './onnx-file';
import type { ModelIr } from './ir';

export interface OnnxRunInput {
  workspace: string;
  /** The run configuration (the ONNX form; its stage rates and teacher fields checked by its schema). */
  config: OnnxRunConfig;
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
  /** The source dataset the teacher pretrains on (teacher.source, with no teacher.pretrained), or null. */
  source: DatasetManifest | null;
}

async function bytesOf(path: string, field: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await fs.readFile(path));
  } catch (err) {
    throw new Error(`${field}: ${path}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/**
 * The source dataset of the teacher's pretraining (loaded at the architecture's input size, so any
 * image size will do): at least 2 classes and training images.
 */
async function sourceOf(input: OnnxRunInput): Promise<DatasetManifest | null> {
  const { teacher } = input.config;
  if (teacher.source === null || input.teacher !== null || teacher.pretrain.epochs === 0) return null;
  const source = await loadDataset(input.workspace, teacher.source).catch((err: unknown) => {
    throw new Error(`teacher.source: ${err instanceof Error ? err.message : String(err)}`);
  });
  if (source.classes.length < 2)
    throw new Error(`teacher.source: dataset '${source.id}' has ${source.classes.length} class; pretraining needs 2`);
  if (!source.samples.some((x) => x.split === 'train'))
    throw new Error(`teacher.source: dataset '${source.id}' has no training images`);
  return source;
}

/** prepareOnnxRun for a configuration as written: its architecture file, classifier, tap and teacher. */
export const prepareOnnxConfig = (workspace: string, config: OnnxRunConfig): Promise<PreparedOnnxRun> =>
  prepareOnnxRun({
    workspace,
    config,
    onnx: config.architecture.onnx,
    classifier: config.architecture.classifier ?? null,
    tap: config.tap,
    teacher: config.teacher.pretrained
  });

/** Every check before training; nothing is written. Refusals name the file, field or node. */
export async function prepareOnnxRun(input: OnnxRunInput): Promise<PreparedOnnxRun> {
  const { config } = input;
  const manifest = await loadDataset(input.workspace, config.dataset);
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
  checkStudentMethod(plan, config.student.method);
  return { input, plan, pretrained, manifest, source: await sourceOf(input) };
}

/** student.method's terms beyond the feature (none for the paper's method alone). */
function methodLines(p: PreparedOnnxRun): string[] {
  const m = p.input.config.student.method;
  if (!distilsWhole(m)) return [];
  const terms = [
    ...(m!.feature ? ['the feature at the tap'] : []),
    ...(m!.logits ? [`logits (temperature ${m!.logits.temperature}, alpha ${m!.logits.alpha})`] : []),
    ...(m!.attention
      ? [
          `attention at ${attentionShapes(p.plan, m!.attention.layers)
            .map((sh, i) => `'${m!.attention!.layers[i]}' [${sh.join('x')}]`)
            .join(', ')} (beta ${m!.attention.beta})`
        ]
      : [])
  ];
  return [`  student stage 1 distils ${terms.join(' + ')}, training every layer`];
}

function teacherLine(p: PreparedOnnxRun): string {
  if (p.input.teacher) return `starts from ${basename(p.input.teacher)}`;
  if (!p.source) return 'starts from the seed';
  const c = p.plan.classifier;
  const epochs = p.input.config.teacher.pretrain.epochs;
  return `pretrains ${epochs} epoch${epochs === 1 ? '' : 's'} on '${p.source.id}' (${p.source.classes.length} classes: classifier '${c.node}' ${c.features} -> ${p.source.classes.length}), then its classifier is replaced`;
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
    `  teacher: ${teacherLine(p)}; students and baselines re-initialised from each seed`,
    ...methodLines(p)
  ];
}
