/* The learning-rate schedule of every training stage: a small pure piece of the training loop. */

/**
 * Log-space decay: lr(e) = lr0 * (lrEnd / lr0)^(e / (epochs - 1)) for epoch e = 0 .. epochs-1
 * (numpy.logspace between log10 lr0 and log10 lrEnd, as the authors' code).
 */
export function learningRate(epoch: number, epochs: number, lr0: number, lrEnd: number): number {
  if (epochs <= 1) return lr0;
  return lr0 * Math.pow(lrEnd / lr0, epoch / (epochs - 1));
}
