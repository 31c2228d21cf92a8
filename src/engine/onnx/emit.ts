/*
 * The model's part of every graph the compiler builds: plan() picks and checks the nodes between the
 * model input and the tap, emitModel() copies them (shape arithmetic folded, see shape-fold.ts;
 * the rules' forward rewrites applied), emitBackward() writes the gradient of the model input by
 * the per-op rules in reverse order. Every node emitted is named after the model node it came from.
 */
import { GraphBuilder, f32, type IrNode, type ModelIr } from './ir';
import { RULES } from './rules';
import { CompileError, withSource, type RuleContext } from './rules/rule';
import { ShapeFolder } from './shape-folder';

/** The nodes between the model input and the tap, checked, with their shapes. */
export interface Plan {
  nodes: IrNode[];
  tapValue: string;
  dataValues: Set<string>;
}

export function plan(model: ModelIr, tap: string): Plan {
  const tapValue = model.tapValues.get(tap);
  if (!tapValue)
    throw new CompileError(
      `${model.source}: no layer or value named '${tap}'; the names are: ${model.tapNames.join(', ')}`
    );
  const producer = new Map<string, IrNode>();
  for (const n of model.nodes) for (const o of n.outputs) producer.set(o, n);
  const needed = new Set<IrNode>();
  const visit = (value: string): void => {
    const n = producer.get(value);
    if (!n || needed.has(n)) return;
    needed.add(n);
    n.inputs.forEach((i) => i && visit(i));
  };
  visit(tapValue);
  const nodes = model.nodes.filter((n) => needed.has(n));
  const dataValues = new Set([model.input.name]);
  // The shape of a value is known when compiling (but for the batch size): Shape ends the dependence.
  for (const n of nodes)
    if (n.op !== 'Shape' && n.inputs.some((i) => dataValues.has(i))) n.outputs.forEach((o) => dataValues.add(o));
  if (!dataValues.has(tapValue))
    throw new CompileError(
      `${model.source}: the tap '${tap}' does not depend on the model input '${model.input.name}'`
    );
  for (const n of nodes) {
    if (dataValues.has(n.outputs[0]) && !RULES[n.op])
      throw new CompileError(
        `${model.source}: node '${n.name}' is a ${n.op}, an op without a backward rule (supported: ${Object.keys(RULES).sort().join(', ')})`
      );
  }
  return { nodes, tapValue, dataValues };
}

/** Names every node added to `b` since `from` after the layer `layer` it comes from (unless it already is). */
function nameAfter(b: GraphBuilder, layer: string, from: number): void {
  for (const node of b.nodes.slice(from))
    if (!node.name.startsWith(layer)) node.name = b.fresh(`${layer}/${node.name}`);
}

/** Emits the model's forward pass from `model.input.name` to the tap into `b`; returns the shapes and a rule context. */
export function emitModel(
  model: ModelIr,
  p: Plan,
  b: GraphBuilder
): { shapes: Map<string, number[]>; ctx: RuleContext; emitted: IrNode[] } {
  const shapes = new Map<string, number[]>([[model.input.name, [...model.input.shape]]]);
  const ctx: RuleContext = {
    b,
    shape: (name) =>
      shapes.get(name) ??
      (() => {
        throw new CompileError(`${model.source}: the shape of '${name}' is unknown`);
      })(),
    constant: (name) => b.initializers.get(name),
    isData: (name) => p.dataValues.has(name),
    needsGrad: (name) => p.dataValues.has(name),
    paramShape: (name) => b.initializers.get(name)?.dims,
    staticBatch: model.staticBatch
  };
  const folder = new ShapeFolder(b, (name) => (p.dataValues.has(name) ? ctx.shape(name) : undefined));
  ctx.batchShape = folder.batchShape;
  const emitted: IrNode[] = [];
  for (const n of p.nodes) {
    const rule = RULES[n.op];
    const from = b.nodes.length;
    withSource(model.source, () => {
      if (!p.dataValues.has(n.outputs[0]) || !rule) {
        folder.emit(n);
        return;
      }
      folder.checkReads(n, true);
      if (rule.outputShapes) rule.outputShapes(n, ctx).forEach((sh, k) => shapes.set(n.outputs[k], sh));
      else shapes.set(n.outputs[0], rule.shape(n, ctx));
      const forward = rule.forward ? rule.forward(n, ctx) : [n];
      b.nodes.push(...forward);
      emitted.push(forward[forward.length - 1]);
    });
    nameAfter(b, n.name, from);
  }
  return { shapes, ctx, emitted };
}

/** Gradient of the model input, given the gradient `dTap` of the tap value (per-op rules, reverse order). */
export function emitBackward(
  model: ModelIr,
  p: Plan,
  { emitted, ctx }: { emitted: IrNode[]; ctx: RuleContext },
  dTap: string
): string {
  const grads = new Map<string, string[]>([[p.tapValue, [dTap]]]);
  const summed = new Map<string, string | null>();
  const total = (value: string): string | null => {
    if (summed.has(value)) return summed.get(value)!;
    const parts = grads.get(value);
    const sum = parts?.length ? parts.reduce((acc, g) => ctx.b.op('Add', [acc, g], {}, `${value}_grad_sum`)) : null;
    summed.set(value, sum);
    return sum;
  };
  const c: RuleContext = { ...ctx, outputGrad: total };
  for (let i = emitted.length - 1; i >= 0; i--) {
    const n = emitted[i];
    const from = ctx.b.nodes.length;
    const outs = n.outputs.map(total);
    if (outs.every((g) => !g)) continue;
    const dy = outs[0] ?? zerosLike(ctx.b, n.outputs[0]);
    const dx = withSource(model.source, () => RULES[n.op].backward(n, dy, c));
    nameAfter(ctx.b, n.name, from);
    n.inputs.forEach((x, k) => {
      if (dx[k] && p.dataValues.has(x)) grads.set(x, [...(grads.get(x) ?? []), dx[k]!]);
    });
  }
  const dInput = total(model.input.name);
  if (!dInput) throw new CompileError(`${model.source}: the tap does not depend on the model input`);
  return dInput;
}

/** Zeros shaped like a float value, from its runtime shape. */
export function zerosLike(b: GraphBuilder, value: string): string {
  return b.op(
    'ConstantOfShape',
    [b.op('Shape', [value], {}, `${value}_shape`)],
    { value: { t: f32([1], [0]) } },
    `${value}_zeros`
  );
}
