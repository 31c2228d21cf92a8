/*
 * The set-up every test of an ONNX-architecture run repeats, in one place: the plan request of a
 * fixture in tests/fixtures/onnx-arch (tiny-arch.onnx's tap, 16 px, 3 classes), the small image set
 * whose class k brightens channel k, the fixed fields of a stage request, a workspace holding the tiny
 * dataset and the architecture file, the tiny configuration as an ONNX run, and an experiment
 * cancelled at an event.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { planOnnxArchitecture, type OnnxArchPlan, type OnnxArchRequest } from '../../src/engine/onnx/onnx-arch';
import type { OnnxStageRequest } from '../../src/engine/onnx/onnx-arch-train';
import { teacherWeights, type Weights } from '../../src/engine/onnx/onnx-arch-weights';
import { openStepper, type OnnxStepper } from '../../src/engine/onnx/onnx-arch-stepper';
import type { RuntimeChoice } from '../../src/engine/onnx/runtime';
import { readOnnxModel } from '../../src/engine/onnx/onnx-file';
import { runExperiment } from '../../src/engine/experiment/runner';
import { CancelledError } from '../../src/engine/training/stage';
import type { ImageSet } from '../../src/engine/training/batches';
import { Rng } from '../../src/engine/util/random';
import type { ExperimentEvent } from '../../src/common/events';
import { writeTinyDataset } from './tiny-dataset';
import { tinyConfig } from './tiny-config';

export const ONNX_ARCH_FIXTURES = join(__dirname, '../fixtures/onnx-arch');
/** The tiny PyTorch export (conv1, bn1, conv2, fc; taps /Relu and /Relu_1). */
export const TINY_ARCH = join(ONNX_ARCH_FIXTURES, 'tiny-arch.onnx');

/** The plan request of a fixture file: no classifier named, tap '/Relu_1', 16 px, 3 classes of 'tiny'. */
export function archRequest(file = 'tiny-arch.onnx', over: Partial<OnnxArchRequest> = {}): OnnxArchRequest {
  return {
    bytes: readFileSync(join(ONNX_ARCH_FIXTURES, file)),
    file,
    classifier: null,
    tap: '/Relu_1',
    imageSize: 16,
    classes: 3,
    dataset: 'tiny',
    pretrained: false,
    ...over
  };
}

/** The plan of tiny-arch.onnx (archRequest's defaults, changed by `over`). */
export const tinyArchPlan = (over: Partial<OnnxArchRequest> = {}): OnnxArchPlan =>
  planOnnxArchitecture(archRequest('tiny-arch.onnx', over));

/** The teacher's start from tiny-arch.onnx: the file's trunk, the classifier fresh from `seed` (default 5). */
export const tinyTeacherStart = (plan: OnnxArchPlan, seed = 5): Weights =>
  teacherWeights(plan, readOnnxModel(readFileSync(TINY_ARCH), 'tiny-arch.onnx'), seed);

/**
 * n images (default 12) of 3 classes at `size` px (default 16): noise of standard deviation 0.3 from
 * `seed` (default 7), image i of class i mod 3, whose channel k = class is raised by `lift` (default 1).
 */
/** A labels stepper over every trainable parameter of `plan`, plain momentum SGD (0.9, no decay), from `weights`. */
export const labelsStepper = (
  plan: OnnxArchPlan,
  o: { runtime: RuntimeChoice; weights: Weights }
): Promise<OnnxStepper> =>
  openStepper({
    plan,
    objective: { kind: 'labels' },
    trainable: plan.trainable,
    momentum: 0.9,
    weightDecay: 0,
    runtime: o.runtime,
    weights: o.weights,
    momenta: new Map()
  });

export function brightImages(o: { seed?: number; n?: number; size?: number; lift?: number } = {}): ImageSet {
  const rng = new Rng(o.seed ?? 7);
  const n = o.n ?? 12,
    s = o.size ?? 16,
    lift = o.lift ?? 1;
  const x = new Float32Array(n * s * s * 3).map(() => rng.normal() * 0.3);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  for (let i = 0; i < n; i++) for (let p = 0; p < s * s; p++) x[(i * s * s + p) * 3 + labels[i]] += lift;
  return { n, size: s, x, labels, ids: Array.from(labels, (_, i) => `i${i}`), masks: null };
}

/** The fields of a stage request that the tests keep fixed: no checkpoints, the teacher's fine-tune. */
export const QUIET_STAGE: Pick<OnnxStageRequest, 'checkpoints' | 'onCheckpoint' | 'name'> = {
  checkpoints: [],
  onCheckpoint: async () => undefined,
  name: 'teacher finetune'
};

/** The training settings whose state carries across epochs: momentum, weight decay, flip and crop (seed 5). */
export const CARRIED_TRAINING: OnnxStageRequest['training'] = {
  momentum: 0.9,
  weightDecay: 5e-4,
  augment: { flip: true, cropPad: 2 },
  seed: 5,
  clipNorm: 0
};

/** A workspace with the tiny dataset (seed 1) and tiny-arch.onnx at <ws>/<folder>/tiny-arch.onnx. */
export async function onnxWorkspace(ws: string, folder = 'models'): Promise<void> {
  await writeTinyDataset(ws, 'tiny', { seed: 1 });
  mkdirSync(join(ws, folder), { recursive: true });
  copyFileSync(TINY_ARCH, join(ws, folder, 'tiny-arch.onnx'));
}

/** The tiny configuration less the KD Lens architecture and tap that an ONNX run replaces. */
type Tiny = Omit<ReturnType<typeof tinyConfig>, 'architecture' | 'tap'>;

/**
 * The tiny configuration as an ONNX-architecture run of `onnx` (default models/tiny-arch.onnx): no
 * classifier named, tap '/Relu_1', the teacher pretrained from the same file with no source. `teacher`
 * gives teacher fields to change; `more` top-level fields to add or replace.
 */
export function onnxArchConfig(
  name: string,
  o: {
    onnx?: string;
    teacher?: (rest: Tiny) => Record<string, unknown>;
    more?: (rest: Tiny) => Record<string, unknown>;
  } = {}
): Record<string, unknown> {
  const { architecture: _a, tap: _t, ...rest } = tinyConfig({ name });
  const onnx = o.onnx ?? 'models/tiny-arch.onnx';
  return {
    ...rest,
    architecture: { onnx, classifier: null },
    tap: '/Relu_1',
    teacher: { ...rest.teacher, source: null, pretrained: onnx, ...o.teacher?.(rest) },
    ...o.more?.(rest)
  };
}

/** How many experiments the workspace holds (0 before the first). */
export const experimentCount = (ws: string): number =>
  existsSync(join(ws, 'experiments')) ? readdirSync(join(ws, 'experiments')).length : 0;

/** Runs experiment `id` until `stopAt` says so on an event, and expects the run to end cancelled there. */
export async function runCancelledAt(ws: string, id: string, stopAt: (e: ExperimentEvent) => boolean): Promise<void> {
  const stop = new AbortController();
  await expect(
    runExperiment(ws, id, { signal: stop.signal, onEvent: (e) => stopAt(e) && stop.abort() })
  ).rejects.toBeInstanceOf(CancelledError);
}
