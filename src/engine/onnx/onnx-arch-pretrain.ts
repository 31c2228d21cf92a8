/*
 * The teacher's pretraining on a source dataset (`teacher.source`) for an ONNX architecture, as the
 * built-in runs do it (experiment/teacher.ts): the architecture's graph with its classifier sized to
 * the source's classes, started from the teacher's seed, trained on labels on the source's images
 * (read at the architecture's input size with the run's normalisation); the fine-tune on the target
 * then starts from that trunk with the classifier replaced (sized to the target's classes and
 * re-initialised from the teacher's seed, as a pretrained teacher file's is: onnx-arch-weights.ts).
 */
import type { RunConfig } from '../../common/config';
import type { DatasetManifest } from '../../common/dataset';
import { datasetPath } from '../data/store';
import { loadImageSet, samplesOf } from '../training/data';
import type { ImageSet } from '../training/batches';
import type { OnnxArchPlan } from './onnx-arch';
import { withClassifier } from './onnx-classifier';
import { initialWeights, type Weights } from './onnx-arch-weights';

/** The plan with its classifier sized to `classes` (the source's). */
export function planForClasses(plan: OnnxArchPlan, classes: number): OnnxArchPlan {
  return { ...plan, ir: withClassifier(plan.ir, plan.classifier, classes) };
}

/** The source's training and validation images at the architecture's input size. */
export async function loadSource(o: {
  workspace: string;
  source: DatasetManifest;
  size: number;
  normalization: RunConfig['normalization'];
}): Promise<{ train: ImageSet; val: ImageSet | null }> {
  const dir = datasetPath(o.workspace, o.source.id);
  const opts = { size: o.size, norm: o.normalization, withMasks: false };
  const train = await loadImageSet(dir, samplesOf(o.source, 'train'), opts);
  const val = samplesOf(o.source, 'val');
  return { train, val: val.length ? await loadImageSet(dir, val, opts) : null };
}

/** The fine-tune's start: the pretrained trunk, the classifier of the target's classes fresh from `seed`. */
export function fineTuneStart(plan: OnnxArchPlan, pretrained: Weights, seed: number): Weights {
  const c = plan.classifier;
  const out = initialWeights(plan, seed);
  for (const name of out.keys())
    if (name !== c.weight && name !== c.bias) out.set(name, Float32Array.from(pretrained.get(name)!));
  return out;
}
