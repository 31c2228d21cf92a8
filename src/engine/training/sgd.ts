/*
 * SGD with momentum and weight decay, as PyTorch's torch.optim.SGD (the authors' optimiser):
 * g = grad + wd * w;  v = mu * v + g;  w = w - lr * v.
 * Its state (the momentum buffers) is plain data so that a run can be saved and resumed exactly.
 */
import * as tf from '@tensorflow/tfjs';

export class MomentumSgd {
  private readonly buffers = new Map<string, tf.Variable>();

  constructor(
    readonly momentum: number,
    readonly weightDecay: number
  ) {}

  /** Applies one update to each variable from its gradient. */
  apply(variables: readonly tf.Variable[], grads: Record<string, tf.Tensor>, lr: number): void {
    tf.tidy(() => {
      for (const v of variables) {
        const value: tf.Tensor = v;
        const grad = grads[v.name];
        if (!grad) continue;
        const g = this.weightDecay > 0 ? grad.add(value.mul(this.weightDecay)) : grad;
        let buf = this.buffers.get(v.name);
        if (!buf) {
          buf = tf.variable(tf.zerosLike(value), false);
          this.buffers.set(v.name, buf);
        }
        const next = this.momentum > 0 ? buf.mul(this.momentum).add(g) : g;
        buf.assign(next);
        v.assign(value.sub(next.mul(lr)));
      }
    });
  }

  /** The momentum buffers as named flat arrays (for a resume checkpoint). */
  async state(): Promise<{ name: string; shape: number[]; values: Float32Array }[]> {
    const out: { name: string; shape: number[]; values: Float32Array }[] = [];
    for (const [name, buf] of this.buffers) out.push({ name, shape: buf.shape, values: (await buf.data()) as Float32Array });
    return out;
  }

  /** Restores buffers saved by state(). */
  restore(state: readonly { name: string; shape: number[]; values: Float32Array }[]): void {
    this.dispose();
    for (const s of state) this.buffers.set(s.name, tf.variable(tf.tensor(s.values, s.shape), false));
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}
