/*
 * The compiler: from a ModelIr and a tap, the two graphs the ONNX engine runs.
 * - features: x [N, H, W, C] (NHWC, the layout of our images and noise) -> phi [N, E];
 * - step: the loss of method.md section 1 for a batch of B images and its gradient w.r.t. sigma,
 *   L_b = mean_{k,e}(phi(x_b + up(sigma_b) eps_bk) - phi(x_b))^2 / sigma_f2_b - lambda_b mean_i H_i,
 *   with the noise eps fed as an input (our seeded per-image streams), so a batch never changes an
 *   image's result and both engines can be compared step by step.
 * The model's forward nodes are copied as they are (named after their layers); the backward pass is
 * generated from the per-op rules in rules/. Checks every node before emitting anything.
 */
import { GAUSSIAN_ENTROPY_OFFSET } from '../knowledge/entropy';
import { upsamplingMatrix } from '../knowledge/grid';
import { GraphBuilder, f32, i64, sizeOf, type IrGraph, type IrNode, type ModelIr } from './ir';
import { RULES } from './rules';
import { CompileError, type RuleContext } from './rules/rule';
import type { StepDims } from '../knowledge/sigma';

export type { StepDims };

export interface SigmaGraphs {
  features: IrGraph;
  step: IrGraph;
  /** E: elements of phi per image. */
  featureSize: number;
  /** The value the tap resolved to. */
  tapValue: string;
}

/** The nodes between the model input and the tap, checked, with their shapes. */
interface Plan {
  nodes: IrNode[];
  tapValue: string;
  dataValues: Set<string>;
}

function plan(model: ModelIr, tap: string): Plan {
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
  for (const n of nodes) if (n.inputs.some((i) => dataValues.has(i))) n.outputs.forEach((o) => dataValues.add(o));
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

/** Emits the model's forward pass from `model.input.name` to the tap into `b`; returns the shapes and a rule context. */
function emitModel(
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
    paramShape: (name) => b.initializers.get(name)?.dims
  };
  const emitted: IrNode[] = [];
  for (const n of p.nodes) {
    const rule = RULES[n.op];
    if (!p.dataValues.has(n.outputs[0]) || !rule) {
      b.nodes.push(n);
      continue;
    }
    const wrap = (e: unknown): never => {
      if (e instanceof CompileError) throw new CompileError(`${model.source}: ${e.message}`);
      throw e;
    };
    try {
      shapes.set(n.outputs[0], rule.shape(n, ctx));
      const forward = rule.forward ? rule.forward(n, ctx) : [n];
      b.nodes.push(...forward);
      emitted.push(forward[forward.length - 1]);
    } catch (e) {
      wrap(e);
    }
  }
  return { shapes, ctx, emitted };
}

/** Gradient of the model input, given the gradient `dTap` of the tap value (per-op rules, reverse order). */
function emitBackward(model: ModelIr, p: Plan, emitted: IrNode[], ctx: RuleContext, dTap: string): string {
  const grads = new Map<string, string[]>([[p.tapValue, [dTap]]]);
  const total = (value: string): string | null => {
    const parts = grads.get(value);
    if (!parts?.length) return null;
    return parts.reduce((acc, g) => ctx.b.op('Add', [acc, g], {}, `${value}_grad_sum`));
  };
  for (let i = emitted.length - 1; i >= 0; i--) {
    const n = emitted[i];
    const dy = total(n.outputs[0]);
    if (!dy) continue;
    let dx: (string | null)[];
    try {
      dx = RULES[n.op].backward(n, dy, ctx);
    } catch (e) {
      if (e instanceof CompileError) throw new CompileError(`${model.source}: ${e.message}`);
      throw e;
    }
    n.inputs.forEach((x, k) => {
      if (dx[k] && p.dataValues.has(x)) grads.set(x, [...(grads.get(x) ?? []), dx[k]!]);
    });
  }
  const dInput = total(model.input.name);
  if (!dInput) throw new CompileError(`${model.source}: the tap does not depend on the model input`);
  return dInput;
}

function checkDims(model: ModelIr, d: StepDims): void {
  const [c, h, w] = model.input.shape;
  if (c !== d.channels || h !== d.height || w !== d.width)
    throw new CompileError(
      `${model.source}: the model takes [${c}, ${h}, ${w}] (C, H, W) inputs, the images are [${d.channels}, ${d.height}, ${d.width}]`
    );
}

/** NHWC -> NCHW into the model's input name. */
function toModelInput(b: GraphBuilder, model: ModelIr, nhwc: string): void {
  b.nodes.push({
    op: 'Transpose',
    name: b.fresh('to_nchw_node'),
    inputs: [nhwc],
    outputs: [model.input.name],
    attrs: { perm: [0, 3, 1, 2] }
  });
}

function phiOf(b: GraphBuilder, f: string, relu: boolean): string {
  return relu ? b.op('Relu', [f], {}, 'phi') : f;
}

export function compileFeatures(
  model: ModelIr,
  tap: string,
  d: StepDims
): { graph: IrGraph; featureSize: number; tapValue: string } {
  checkDims(model, d);
  const p = plan(model, tap);
  const b = new GraphBuilder(model.initializers);
  b.reserve(['kd_x', 'phi_flat', model.input.name, ...model.nodes.flatMap((n) => n.outputs)]);
  toModelInput(b, model, 'kd_x');
  const { shapes } = emitModel(model, p, b);
  const featureSize = sizeOf(shapes.get(p.tapValue)!);
  const phi = b.op(
    'Reshape',
    [phiOf(b, p.tapValue, d.relu), b.constant('flat_shape', i64([-1, featureSize]))],
    {},
    'phi_flat'
  );
  const graph: IrGraph = {
    name: `features_${tap}`,
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [{ name: 'kd_x', type: 'float', shape: ['N', d.height, d.width, d.channels] }],
    outputs: [{ name: phi, type: 'float', shape: ['N', featureSize] }]
  };
  return { graph, featureSize, tapValue: p.tapValue };
}

export function compileStep(model: ModelIr, tap: string, d: StepDims): IrGraph {
  checkDims(model, d);
  const p = plan(model, tap);
  const { height: h, width: w, channels: c, grid: g, samples: k } = d;
  const b = new GraphBuilder(model.initializers);
  const inputs = ['kd_x', 'kd_eps', 'kd_sigma', 'kd_clean', 'kd_inv_sigma_f2', 'kd_lambda'];
  b.reserve([...inputs, model.input.name, ...model.nodes.flatMap((n) => n.outputs)]);
  const rows = b.constant('up_rows', f32([h, g], upsamplingMatrix(h, g)));
  const colsT = b.constant('up_cols_t', f32([g, w], transpose(upsamplingMatrix(w, g), w, g)));
  const up = b.op('MatMul', [b.op('MatMul', [rows, 'kd_sigma'], {}, 'up_rows_sigma'), colsT], {}, 'up_sigma');
  const noise = b.op('Mul', [b.reshapeBatch(up, [1, h, w, 1], 'up_sigma_5d'), 'kd_eps'], {}, 'scaled_noise');
  const perturbed = b.op('Add', [b.reshapeBatch('kd_x', [1, h, w, c], 'x_5d'), noise], {}, 'perturbed');
  toModelInput(b, model, b.reshapeBatch(perturbed, [h, w, c], 'perturbed_flat'));
  const { shapes, ctx, emitted } = emitModel(model, p, b);
  const fShape = shapes.get(p.tapValue)!;
  const e = sizeOf(fShape);
  const phi = phiOf(b, p.tapValue, d.relu);
  const diff = b.op(
    'Sub',
    [b.reshapeBatch(phi, [k, e], 'phi_3d'), b.reshapeBatch('kd_clean', [1, e], 'clean_3d')],
    {},
    'diff'
  );
  const axes12 = b.constant('axes_1_2', i64([1, 2]));
  const invS2 = b.reshapeBatch('kd_inv_sigma_f2', [], 'inv_sigma_f2_1d');
  const squares = b.op(
    'ReduceSum',
    [b.op('Mul', [diff, diff], {}, 'diff_squared'), axes12],
    { keepdims: 0 },
    'squares'
  );
  const featureTerm = b.op(
    'Mul',
    [b.op('Mul', [squares, b.scalar(1 / (k * e), 'inv_k_e')], {}, 'feature_mean'), invS2],
    {},
    'feature_term'
  );
  const logSigma = b.op('Log', ['kd_sigma'], {}, 'log_sigma');
  const meanH = b.op(
    'Add',
    [
      b.op('Mul', [b.op('ReduceSum', [logSigma, axes12], { keepdims: 0 }), b.scalar(1 / (g * g), 'inv_cells')]),
      b.scalar(GAUSSIAN_ENTROPY_OFFSET, 'entropy_offset')
    ],
    {},
    'mean_entropy'
  );
  const loss = b.op('Sub', [featureTerm, b.op('Mul', [meanH, 'kd_lambda'], {}, 'entropy_term')], {}, 'loss');

  // d loss / d phi = 2 diff / (K E sigma_f2), then through the ReLU of phi and back through the model.
  const dDiff = b.op(
    'Mul',
    [diff, b.op('Mul', [b.reshapeBatch(invS2, [1, 1], 'inv_sigma_f2_3d'), b.scalar(2 / (k * e), 'two_over_k_e')])],
    {},
    'diff_grad'
  );
  let dTap = b.reshapeBatch(dDiff, fShape, 'phi_grad');
  if (d.relu)
    dTap = b.op(
      'Where',
      [b.op('Greater', [phi, b.scalar(0, 'zero')], {}, 'tap_positive'), dTap, b.scalar(0, 'zero')],
      {},
      'tap_grad'
    );
  const dInput = emitBackward(model, p, emitted, ctx, dTap);
  const dPerturbed = b.reshapeBatch(
    b.op('Transpose', [dInput], { perm: [0, 2, 3, 1] }, 'input_grad_nhwc'),
    [k, h, w, c],
    'input_grad_5d'
  );
  const dUp = b.op(
    'ReduceSum',
    [b.op('Mul', [dPerturbed, 'kd_eps'], {}, 'noise_grad'), b.constant('axes_1_4', i64([1, 4]))],
    { keepdims: 0 },
    'up_sigma_grad'
  );
  const rowsT = b.constant('up_rows_t', f32([g, h], transpose(upsamplingMatrix(h, g), h, g)));
  const cols = b.constant('up_cols', f32([w, g], upsamplingMatrix(w, g)));
  const dFeature = b.op('MatMul', [b.op('MatMul', [rowsT, dUp]), cols], {}, 'sigma_feature_grad');
  const dEntropy = b.op(
    'Div',
    [b.op('Mul', [b.reshapeBatch('kd_lambda', [1, 1], 'lambda_3d'), b.scalar(1 / (g * g), 'inv_cells')]), 'kd_sigma'],
    {},
    'sigma_entropy_grad'
  );
  const grad = b.op('Sub', [dFeature, dEntropy], {}, 'sigma_grad');
  return {
    name: `sigma_step_${tap}`,
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [
      { name: 'kd_x', type: 'float', shape: ['B', h, w, c] },
      { name: 'kd_eps', type: 'float', shape: ['B', k, h, w, c] },
      { name: 'kd_sigma', type: 'float', shape: ['B', g, g] },
      { name: 'kd_clean', type: 'float', shape: ['B', e] },
      { name: 'kd_inv_sigma_f2', type: 'float', shape: ['B'] },
      { name: 'kd_lambda', type: 'float', shape: ['B'] }
    ],
    outputs: [
      { name: loss, type: 'float', shape: ['B'] },
      { name: grad, type: 'float', shape: ['B', g, g] }
    ]
  };
}

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

/**
 * The vector-Jacobian product of the model at a tap, for tests and tools: inputs the model input
 * (NCHW) and a cotangent dy of the tap's shape; outputs f(x) and dy^T df/dx.
 */
export function compileInputGradient(model: ModelIr, tap: string): { graph: IrGraph; tapShape: number[] } {
  const p = plan(model, tap);
  const b = new GraphBuilder(model.initializers);
  b.reserve(['kd_dy', model.input.name, ...model.nodes.flatMap((n) => n.outputs)]);
  const { shapes, ctx, emitted } = emitModel(model, p, b);
  const tapShape = shapes.get(p.tapValue)!;
  const dInput = emitBackward(model, p, emitted, ctx, 'kd_dy');
  const graph: IrGraph = {
    name: `input_gradient_${tap}`,
    nodes: b.nodes,
    initializers: b.initializers,
    inputs: [
      { name: model.input.name, type: 'float', shape: ['N', ...model.input.shape] },
      { name: 'kd_dy', type: 'float', shape: ['N', ...tapShape] }
    ],
    outputs: [
      { name: p.tapValue, type: 'float', shape: ['N', ...tapShape] },
      { name: dInput, type: 'float', shape: ['N', ...model.input.shape] }
    ]
  };
  return { graph, tapShape };
}
