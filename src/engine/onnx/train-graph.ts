/*
 * The training-step compiler: from a ModelIr, the stage's trainable parameters and its objective,
 * one ONNX graph that does a whole SGD step, so that ONNX Runtime (which has no training API in
 * JavaScript) can train. Forward pass; loss (train-losses.ts: softmax cross-entropy on one-hot
 * labels, stage 1's feature regression scale * mean (f_L - target)^2, or student.method's logit
 * distillation and attention transfer, alone or beside the feature term); backward through the
 * per-op rules in rules/ (only values that depend on a trainable parameter get a gradient, so a
 * frozen stage-2 trunk costs its forward pass only); then (train-update.ts) gradient-norm clipping,
 * SGD as MomentumSgd (sgd.ts) with the learning rate an input, and the tap kernel's path-length
 * increment ||W_t - W_{t-1}||_F.
 * Parameters and momenta are graph inputs and their next values outputs, so the caller keeps them in
 * ONNX Runtime tensors from step to step. Dropout layers become a Mul by a mask input (the caller
 * draws it, already scaled by 1 / (1 - rate)).
 */
import { GraphBuilder, type IrGraph, type IrNode, type IrValueInfo, type ModelIr } from './ir';
import { RULES } from './rules';
import { CompileError, type RuleContext } from './rules/rule';
import { emitLossTerms } from './train-objective';
import { emitUpdate } from './train-update';
import { ShapeFolder } from './shape-folder';
import { emitStepBackward } from './train-backward';
import { TRAIN_INPUTS, teacherAttentionInput } from './train-inputs';

export type TrainObjective =
  /** Softmax cross-entropy (mean over the batch) of the model output `output` against one-hot labels. */
  | { kind: 'labels'; output: string; numClasses: number }
  /** scale * mean over batch and elements of (tap value - target)^2; the target is fed per batch. */
  | { kind: 'feature'; tap: string; scale: number }
  /**
   * student.method on this engine: Hinton's logit distillation of the model output `output` against
   * the teacher's logits (fed per batch), and/or the feature term at `feature.tap` (target fed per batch).
   */
  | {
      kind: 'distill';
      output: string;
      numClasses: number;
      feature: { tap: string; scale: number } | null;
      logits: { temperature: number; alpha: number } | null;
      /** Attention transfer at these layers (the teacher's activations fed per batch), with the labels' CE when logits is null. */
      attention: { layers: readonly string[]; beta: number } | null;
    };

export interface TrainGraphRequest {
  model: ModelIr;
  /** Initializer names this stage trains; every other initializer stays a frozen constant. */
  trainable: readonly string[];
  objective: TrainObjective;
  momentum: number;
  weightDecay: number;
  /** The parameter whose path length is tracked (one of trainable), or null. */
  tapKernel: string | null;
  /** Values (outputs of Identity nodes) that are dropout layers in training: each becomes x * mask. */
  dropout?: readonly string[];
  /**
   * Initializers fed as inputs without a gradient and updated by the graph: the running statistics
   * of BatchNormalization nodes in training mode (their next values are outputs).
   */
  state?: readonly string[];
}

export interface TrainParam {
  name: string;
  dims: number[];
  momentumInput: string;
  next: string;
  momentumNext: string;
}

export interface TrainGraph {
  graph: IrGraph;
  params: TrainParam[];
  /** Mask inputs of the dropout layers with their per-sample shapes. */
  masks: { value: string; input: string; shape: number[] }[];
  /** Per-sample shape of the target input (feature objective). */
  targetSize: number | null;
  /** The state inputs this graph updates, with their next values. */
  state: { name: string; dims: number[]; next: string }[];
  outputs: { loss: string; gradNorm: string; predictions: string | null; pathStep: string | null };
}

export { TRAIN_INPUTS, teacherAttentionInput };

/** The nodes the objective needs, in graph order. */
function needed(model: ModelIr, values: readonly string[]): IrNode[] {
  const producer = new Map<string, IrNode>();
  for (const n of model.nodes) for (const o of n.outputs) producer.set(o, n);
  const keep = new Set<IrNode>();
  const visit = (v: string): void => {
    const n = producer.get(v);
    if (!n || keep.has(n)) return;
    keep.add(n);
    n.inputs.forEach((i) => i && visit(i));
  };
  values.forEach(visit);
  return model.nodes.filter((n) => keep.has(n));
}

export function compileTrainStep(req: TrainGraphRequest, dims: { height: number; width: number }): TrainGraph {
  const { model, objective } = req;
  const [ch, h, w] = model.input.shape;
  if (h !== dims.height || w !== dims.width)
    throw new CompileError(
      `${model.source}: the model takes ${h}x${w} inputs, the images are ${dims.height}x${dims.width}`
    );
  const tapOf = (tap: string): string => {
    const v = model.tapValues.get(tap);
    if (!v)
      throw new CompileError(
        `${model.source}: no layer or value named '${tap}'; the names are: ${model.tapNames.join(', ')}`
      );
    return v;
  };
  // The network values the loss reads: the logits, the tap, or both (student.method).
  const featureTap =
    objective.kind === 'feature' ? objective.tap : objective.kind === 'distill' ? objective.feature?.tap : null;
  const featureValue = featureTap ? tapOf(featureTap) : null;
  const logitsValue = objective.kind === 'feature' ? null : objective.output;
  const attention = objective.kind === 'distill' ? objective.attention : null;
  const attentionValues = (attention?.layers ?? []).map(tapOf);
  const lossValues = [logitsValue, featureValue, ...attentionValues].filter((v): v is string => v !== null);
  const outValue = lossValues[0];
  for (const p of req.trainable)
    if (!model.initializers.has(p)) throw new CompileError(`${model.source}: no parameter named '${p}'`);
  const nodes = needed(model, lossValues);
  const trainable = new Set(req.trainable);
  const stateNames = new Set(req.state ?? []);
  const frozen = new Map([...model.initializers].filter(([k]) => !trainable.has(k) && !stateNames.has(k)));
  const b = new GraphBuilder(frozen);
  b.reserve([
    ...Object.values(TRAIN_INPUTS),
    model.input.name,
    ...req.trainable,
    ...model.nodes.flatMap((n) => n.outputs)
  ]);

  const dataValues = new Set([model.input.name]);
  const gradValues = new Set(req.trainable);
  const shapes = new Map<string, number[]>([[model.input.name, [ch, h, w]]]);
  const ctx: RuleContext = {
    b,
    shape: (name) => shapes.get(name) ?? fail(`the shape of '${name}' is unknown`),
    constant: (name) => b.initializers.get(name),
    isData: (name) => dataValues.has(name),
    needsGrad: (name) => gradValues.has(name),
    paramShape: (name) =>
      trainable.has(name) || stateNames.has(name) ? model.initializers.get(name)!.dims : b.initializers.get(name)?.dims,
    staticBatch: model.staticBatch
  };
  // Shape arithmetic (ShuffleNet's channel shuffle and split) is folded as for quantification.
  const folder = new ShapeFolder(b, (name) => (dataValues.has(name) ? ctx.shape(name) : undefined));
  ctx.batchShape = folder.batchShape;
  function fail(problem: string): never {
    throw new CompileError(`${model.source}: ${problem}`);
  }
  const wrap = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof CompileError) fail(e.message);
      throw e;
    }
  };

  b.nodes.push({
    op: 'Transpose',
    name: 'to_nchw',
    inputs: [TRAIN_INPUTS.x],
    outputs: [model.input.name],
    attrs: { perm: [0, 3, 1, 2] }
  });
  const dropout = new Set(req.dropout ?? []);
  const masks: TrainGraph['masks'] = [];
  const state: TrainGraph['state'] = [];
  const emitted: IrNode[] = [];
  for (const original of nodes) {
    let n = original;
    // The shape of a value is known when compiling (but for the batch size): Shape ends the dependence.
    const isData = n.op !== 'Shape' && n.inputs.some((i) => dataValues.has(i));
    if (!isData) {
      wrap(() => folder.emit(original));
      continue;
    }
    n.outputs.forEach((o) => dataValues.add(o));
    if (n.inputs.some((i) => gradValues.has(i))) n.outputs.forEach((o) => gradValues.add(o));
    if (dropout.has(n.outputs[0])) {
      if (n.op !== 'Identity') fail(`dropout value '${n.outputs[0]}' is produced by a ${n.op}, not an Identity`);
      const input = b.fresh(`kd_mask_${n.outputs[0]}`);
      masks.push({ value: n.outputs[0], input, shape: ctx.shape(n.inputs[0]) });
      dataValues.add(input);
      shapes.set(input, ctx.shape(n.inputs[0]));
      n = { ...n, op: 'Mul', inputs: [n.inputs[0], input] };
    }
    if (n.op === 'BatchNormalization' && n.attrs.training_mode === 1 && n.outputs.length === 1) {
      const [, , , mean, variance] = n.inputs;
      if (!stateNames.has(mean) || !stateNames.has(variance))
        fail(`node '${n.name}': the running statistics of a batch norm in training mode must be state inputs`);
      const next = [b.fresh(`${mean}__next`), b.fresh(`${variance}__next`)];
      n = { ...n, outputs: [n.outputs[0], ...next] };
      state.push({ name: mean, dims: model.initializers.get(mean)!.dims, next: next[0] });
      state.push({ name: variance, dims: model.initializers.get(variance)!.dims, next: next[1] });
    }
    const rule = RULES[n.op];
    if (!rule)
      fail(
        `node '${n.name}' is a ${n.op}, an op without a gradient rule (supported: ${Object.keys(RULES).sort().join(', ')})`
      );
    const node = n;
    wrap(() => {
      folder.checkReads(node, true);
      if (rule.outputShapes) rule.outputShapes(node, ctx).forEach((sh, k) => shapes.set(node.outputs[k], sh));
      else shapes.set(node.outputs[0], rule.shape(node, ctx));
      const forward = gradValues.has(node.outputs[0]) && rule.forward ? rule.forward(node, ctx) : [node];
      b.nodes.push(...forward);
      emitted.push(forward[forward.length - 1]);
    });
  }
  for (const v of lossValues) if (!gradValues.has(v)) fail('no trainable parameter reaches the loss');

  // The loss terms, each with its gradient with respect to the value it reads (train-objective.ts).
  const inputs: IrValueInfo[] = [{ name: TRAIN_INPUTS.x, type: 'float', shape: ['N', h, w, ch] }];
  const {
    loss: lossOut,
    seeds,
    predictions,
    targetSize
  } = emitLossTerms({
    ctx,
    objective,
    values: { first: outValue, logits: logitsValue, feature: featureValue, attention: attentionValues },
    inputs,
    fail,
    wrap
  });

  // Backward, in reverse graph order, only through values that depend on a trainable parameter.
  const total = emitStepBackward({ ctx, emitted, lossValues, seeds, gradValues, wrap });
  // Clip by the global norm, then SGD with momentum and weight decay (train-update.ts).
  const paramGrads: string[] = [];
  for (const p of req.trainable) {
    const g = total(p);
    if (!g) fail(`the parameter '${p}' gets no gradient from the loss; leave it out of the trainable set`);
    paramGrads.push(g);
  }
  const { gradNorm, params, pathStep, outputs } = emitUpdate(b, {
    model,
    request: req,
    grads: paramGrads,
    inputs
  });
  outputs.unshift({ name: lossOut, type: 'float', shape: [] }, { name: gradNorm, type: 'float', shape: [] });
  if (req.tapKernel && !pathStep) fail(`the tap kernel '${req.tapKernel}' is not trained in this stage`);
  if (predictions) outputs.push({ name: predictions, type: 'int64', shape: ['N'] });
  for (const m of masks) inputs.push({ name: m.input, type: 'float', shape: ['N', ...m.shape] });
  for (const st of state) {
    inputs.push({ name: st.name, type: 'float', shape: st.dims });
    outputs.push({ name: st.next, type: 'float', shape: st.dims });
  }
  for (const name of stateNames)
    if (!state.some((st) => st.name === name) && nodes.some((n) => n.inputs.includes(name)))
      fail(`the state input '${name}' is read by a node that does not update it`);
  inputs.push(
    { name: TRAIN_INPUTS.lr, type: 'float', shape: [] },
    { name: TRAIN_INPUTS.clip, type: 'float', shape: [] }
  );
  return {
    graph: { name: 'train_step', nodes: b.nodes, initializers: b.initializers, inputs, outputs },
    params,
    masks,
    targetSize,
    state,
    outputs: { loss: lossOut, gradNorm, predictions, pathStep }
  };
}
