/*
 * The stage the engine-agreement tests run on both training engines (same-science.test.ts,
 * onnx-eval.test.ts): one 3-epoch configuration, and a resume store kept in memory.
 */
import type { ResumeData, ResumeStore } from '../../src/engine/training/resume';
import type { StageSpec } from '../../src/engine/training/stage-spec';

/**
 * A 3-epoch stage (rate 0.05 down to 0.01, batches of 8, momentum 0.9, weight decay 5e-4, flips and
 * 2-pixel crops, seed 11, no checkpoints) of the given network, objective and images; the caller adds
 * the resume store and the engine.
 */
export const threeEpochStage = (
  o: Pick<StageSpec, 'name' | 'model' | 'trainable' | 'objective' | 'train' | 'val' | 'tapKernel'>
): Omit<StageSpec, 'resume'> => ({
  ...o,
  config: { epochs: 3, lr: 0.05, lrEnd: 0.01, batchSize: 8 },
  momentum: 0.9,
  weightDecay: 5e-4,
  augment: { flip: true, cropPad: 2 },
  seed: 11,
  checkpoints: []
});

/** A resume store in memory, and what it holds now (null before the first save). */
export function memoryResume(): { store: ResumeStore; held: () => ResumeData | null } {
  let stored: ResumeData | null = null;
  return {
    store: { label: 'memory', load: async () => stored, save: async (d) => void (stored = d) },
    held: () => stored
  };
}
