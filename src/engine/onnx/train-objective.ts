/*
 * The loss terms of the training-step graph (train-graph.ts), each with its gradient with respect to
 * the network value it reads: softmax cross-entropy on one-hot labels or student.method's logit
 * distillation on the logits, stage 1's feature regression on the tap, attention transfer at chosen
 * layers (train-losses.ts), summed into the step's loss; the graph inputs they read (labels,
 * teacher logits, target feature, teacher attention) are appended to `inputs`.
 */
import { sizeOf, type IrValueInfo } from './ir';
import type { RuleContext } from './rules/rule';
import { attentionTransfer, crossEntropy, featureRegression, logitDistillation } from './train-losses';
import { TRAIN_INPUTS, teacherAttentionInput } from './train-inputs';
import type { TrainObjective } from './train-graph';

export function emitLossTerms(o: {
  ctx: RuleContext;
  objective: TrainObjective;
  /** The values the loss reads: `first` (whose batch size divides the terms), logits, the tap, attention layers. */
  values: { first: string; logits: string | null; feature: string | null; attention: readonly string[] };
  inputs: IrValueInfo[];
  fail: (problem: string) => never;
  wrap: <T>(f: () => T) => T;
}): {
  loss: string;
  seeds: { value: string; grad: string }[];
  predictions: string | null;
  targetSize: number | null;
} {
  const { ctx, objective, values, inputs, fail, wrap } = o;
  const b = ctx.b;
  const attention = objective.kind === 'distill' ? objective.attention : null;
  const batch = b.op(
    'Cast',
    [
      b.op('Gather', [
        b.op('Shape', [values.first]),
        b.constant('zero_index', { type: 'int64', dims: [], data: BigInt64Array.from([0n]) })
      ])
    ],
    { to: 1 },
    'batch_size'
  );
  const losses: string[] = [];
  const seeds: { value: string; grad: string }[] = [];
  const add = (value: string, term: { loss: string; grad: string }): void => {
    losses.push(term.loss);
    seeds.push({ value, grad: term.grad });
  };
  let predictions: string | null = null;
  let targetSize: number | null = null;
  if (values.logits && objective.kind !== 'feature') {
    const outShape = ctx.shape(values.logits);
    if (outShape.length !== 1 || outShape[0] !== objective.numClasses)
      fail(
        `the output '${values.logits}' has per-sample shape [${outShape}], expected [${objective.numClasses}] logits`
      );
    inputs.push({ name: TRAIN_INPUTS.onehot, type: 'float', shape: ['N', objective.numClasses] });
    const onehot = TRAIN_INPUTS.onehot;
    if (objective.kind === 'labels' || (!objective.logits && attention))
      add(values.logits, crossEntropy(b, { logits: values.logits, onehot, batch }));
    else if (objective.logits) {
      const teacher = TRAIN_INPUTS.teacherLogits;
      inputs.push({ name: teacher, type: 'float', shape: ['N', objective.numClasses] });
      add(values.logits, logitDistillation(b, { logits: values.logits, teacher, onehot, batch, ...objective.logits }));
    }
    predictions = b.op('ArgMax', [values.logits], { axis: 1, keepdims: 0 }, 'predictions');
  }
  if (values.feature) {
    const shape = ctx.shape(values.feature);
    const scale =
      objective.kind === 'feature' ? objective.scale : objective.kind === 'distill' ? objective.feature!.scale : 1;
    targetSize = sizeOf(shape);
    inputs.push({ name: TRAIN_INPUTS.target, type: 'float', shape: ['N', targetSize] });
    add(
      values.feature,
      featureRegression(b, { value: values.feature, shape, target: TRAIN_INPUTS.target, scale, batch })
    );
  }
  if (attention) {
    const layers = values.attention.map((value, i) => {
      const shape = ctx.shape(value);
      inputs.push({ name: teacherAttentionInput(i), type: 'float', shape: ['N', sizeOf(shape)] });
      return { value, shape, teacher: teacherAttentionInput(i) };
    });
    const at = wrap(() => attentionTransfer(b, { layers, beta: attention.beta, batch }));
    losses.push(at.loss);
    seeds.push(...at.grads);
  }
  if (!losses.length) fail('the objective has no loss term');
  const loss = losses.slice(1).reduce((acc, l) => b.op('Add', [acc, l], {}, 'loss_sum'), losses[0]);
  return { loss: b.op('Identity', [loss], {}, 'loss'), seeds, predictions, targetSize };
}
