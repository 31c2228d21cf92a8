/*
 * SGD with momentum and weight decay, as PyTorch's torch.optim.SGD (the authors' optimiser):
 * g = grad + wd * w;  v = mu * v + g;  w = w - lr * v.
 * One buffer per variable, by position in the variable list (TF.js renames variables that are
 * created twice in a process, so names cannot identify them across a resume). Its state is plain
 * data so that a run can be saved and resumed exactly.
 */
import * as tf from '@tensorflow/tfjs';

export class MomentumSgd {
  private buffers: (tf.Variable | null)[] = [];

  constructor(
    readonly momentum: number,
    readonly weightDecay: number
  ) {}

  /** Applies one update to each variable from its gradient (grads keyed by variable name). */
  apply(variables: readonly tf.Variable[], grads: Record<string, tf.Tensor>, lr: number): void {
    tf.tidy(() => {
      variables.forEach((v, i) => {
        const grad = grads[v.name];
        if (!grad) return;
        const g = this.weightDecay > 0 ? grad.add(v.mul(this.weightDecay)) : grad;
        let buf = this.buffers[i];
        if (!buf) {
          buf = tf.variable(tf.zerosLike(v), false);
          this.buffers[i] = buf;
        }
        const next = this.momentum > 0 ? buf.mul(this.momentum).add(g) : g;
        buf.assign(next);
        v.assign(v.sub(next.mul(lr)));
      });
    });
  }

  /** The momentum buffers as flat arrays named by position (for a resume checkpoint); unused ones are empty. */
  async state(): Promise<{ name: string; shape: number[]; values: Float32Array }[]> {
    const out: { name: string; shape: number[]; values: Float32Array }[] = [];
    for (const [i, buf] of this.buffers.entries()) {
      out.push(
        buf
          ? { name: `m${i}`, shape: buf.shape, values: (await buf.data()) as Float32Array }
          : { name: `m${i}`, shape: [0], values: new Float32Array(0) }
      );
    }
    return out;
  }

  /** Restores buffers saved by state(). */
  restore(state: readonly { name: string; shape: number[]; values: Float32Array }[]): void {
    this.dispose();
    // tidy disposes the initial tensor; the variable keeps its own reference to the data.
    this.buffers = state.map((s) =>
      s.values.length ? tf.tidy(() => tf.variable(tf.tensor(s.values, s.shape), false)) : null
    );
  }

  dispose(): void {
    for (const b of this.buffers) b?.dispose();
    this.buffers = [];
  }
}
