/* The learning-rate schedule of every training stage and its two ends: a small pure piece of the training loop. */
import type { StageConfig } from '../../common/config';

/**
 * Log-space decay: lr(e) = lr0 * (lrEnd / lr0)^(e / (epochs - 1)) for epoch e = 0 .. epochs-1
 * (numpy.logspace between log10 lr0 and log10 lrEnd, as the authors' code).
 */
export function learningRate(epoch: number, epochs: number, lr0: number, lrEnd: number): number {
  if (epochs <= 1) return lr0;
  return lr0 * Math.pow(lrEnd / lr0, epoch / (epochs - 1));
}

/** The schedule's first and last rate: as configured, or from a range test for lr "auto". */
export function scheduleEnds(config: StageConfig, autoLr: number | null): { lr0: number; lrEnd: number } {
  if (config.lr !== 'auto') return { lr0: config.lr, lrEnd: config.lrEnd };
  const lr0 = autoLr!;
  // The configured end when it lies below the found rate, else one decade below it.
  return { lr0, lrEnd: config.lrEnd < lr0 ? config.lrEnd : lr0 / 10 };
}
