/*
 * The backward half of the training-step graph (train-graph.ts): from the loss terms' gradients
 * (seeds), the gradient of every value that depends on a trainable parameter, in reverse graph
 * order through the per-op rules (rules/), summed over a value's readers. A MaxPool whose input is a
 * ReLU read by nothing else masks its gradient at the pooled size and the ReLU's backward is skipped.
 */
import type { IrNode } from './ir';
import { RULES } from './rules';
import type { RuleContext } from './rules/rule';
import { zerosLike } from './emit';

/**
 * Emits the backward pass into ctx.b; returns the gradient of a value (summed over its readers), or
 * null when nothing that depends on it reaches the loss. `wrap` turns a rule's CompileError into the
 * step's own message.
 */
export function emitStepBackward(o: {
  ctx: RuleContext;
  emitted: readonly IrNode[];
  lossValues: readonly string[];
  seeds: readonly { value: string; grad: string }[];
  gradValues: ReadonlySet<string>;
  wrap: <T>(f: () => T) => T;
}): (value: string) => string | null {
  const { ctx, emitted, lossValues, seeds, gradValues, wrap } = o;
  const b = ctx.b;
  const grads = new Map<string, string[]>();
  for (const t of seeds) grads.set(t.value, [...(grads.get(t.value) ?? []), t.grad]);
  const summed = new Map<string, string | null>();
  const total = (value: string): string | null => {
    if (summed.has(value)) return summed.get(value)!;
    const parts = grads.get(value);
    const sum = parts?.length ? parts.reduce((acc, g) => b.op('Add', [acc, g], {}, `${value}_grad_sum`)) : null;
    summed.set(value, sum);
    return sum;
  };
  // Ops with several outputs (Split) read the gradients of the others here.
  const backCtx: RuleContext = { ...ctx, outputGrad: total };
  const fused = reluIntoMaxPool(emitted, lossValues);
  const masked = new Set<IrNode>();
  for (let i = emitted.length - 1; i >= 0; i--) {
    const n = emitted[i];
    if (!n.outputs.some((o) => gradValues.has(o))) continue;
    const outs = n.outputs.map((o) => (gradValues.has(o) ? total(o) : null));
    if (outs.every((g) => !g)) continue;
    let dy = outs[0] ?? zerosLike(b, n.outputs[0]);
    const relu = fused.get(n);
    if (relu) {
      // The pooled value is the ReLU output at the chosen cell: mask dy at the pooled size instead.
      const positive = b.op('Ceil', [b.op('Clip', [n.outputs[0], b.scalar(0), b.scalar(1)])], {}, `${n.name}_positive`);
      dy = b.op('Mul', [dy, positive], {}, `${n.name}_masked_grad`);
      masked.add(relu);
    }
    const dx = masked.has(n) ? [dy] : wrap(() => RULES[n.op].backward(n, dy, backCtx));
    n.inputs.forEach((x, k) => {
      if (dx[k] && gradValues.has(x)) grads.set(x, [...(grads.get(x) ?? []), dx[k]!]);
    });
  }

  return total;
}

/**
 * MaxPool nodes whose input is a ReLU output read by nothing else (and not a value the loss reads), with
 * that ReLU: the ReLU's gradient mask at the chosen cell is (pooled value > 0), so the pool's
 * gradient is masked at the pooled size and the full-size ReLU backward is skipped (exact).
 */
function reluIntoMaxPool(emitted: readonly IrNode[], lossValues: readonly string[]): Map<IrNode, IrNode> {
  const readers = new Map<string, number>();
  for (const n of emitted) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  const out = new Map<IrNode, IrNode>();
  for (const n of emitted) {
    if (n.op !== 'MaxPool') continue;
    const relu = emitted.find((r) => r.op === 'Relu' && r.outputs[0] === n.inputs[0]);
    if (relu && readers.get(n.inputs[0]) === 1 && !lossValues.includes(n.inputs[0])) out.set(n, relu);
  }
  return out;
}
