/*
 * Backward rules of the matrix products: MatMul (x W) and Gemm (alpha x B' + beta C). The input
 * gradient is dy times the transposed weights (a constant computed once when W is a constant, a
 * Transpose node when W is a trainable parameter); the weight gradient is x^T dy summed over the
 * batch, and Gemm's bias gradient is beta times dy summed over the batch (reduced to C's shape).
 */
import { f32, i64, type IrNode, type IrTensor } from '../ir';
import { type OpRule, type RuleContext, fail, floatAttr, intAttr, paramDims } from './rule';

function transposed(t: IrTensor): IrTensor {
  const [r, k] = t.dims;
  const src = t.data as Float32Array;
  const out = new Float32Array(r * k);
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) out[j * r + i] = src[i * k + j];
  return f32([k, r], out);
}

function weights(n: IrNode, c: RuleContext): number[] {
  const w = paramDims(n, 1, c);
  const t = c.constant(n.inputs[1]);
  if (w.length !== 2 || (t && t.type !== 'float'))
    fail(n, `the weights must be a float matrix, got dims [${w.join(', ')}]`);
  return w;
}

/** W^T: a folded constant, or a Transpose node when W is a graph input. */
function weightsT(n: IrNode, c: RuleContext): string {
  const t = c.constant(n.inputs[1]);
  return t
    ? c.b.constant(`${n.name}_weights_t`, transposed(t))
    : c.b.op('Transpose', [n.inputs[1]], { perm: [1, 0] }, `${n.name}_weights_t`);
}

/** x^T dy for a per-sample vector input x [N, K] and dy [N, M]: [K, M]. */
function weightGrad(n: IrNode, dy: string, c: RuleContext): string {
  if (c.shape(n.inputs[0]).length !== 1)
    fail(n, `a weight gradient needs a [batch, features] input, got a per-sample shape [${c.shape(n.inputs[0])}]`);
  const xt = c.b.op('Transpose', [n.inputs[0]], { perm: [1, 0] }, `${n.name}_x_t`);
  return c.b.op('MatMul', [xt, dy], {}, `${n.name}_weight_grad`);
}

const matMul: OpRule = {
  shape(n, c) {
    const x = c.shape(n.inputs[0]);
    const w = weights(n, c);
    if (x[x.length - 1] !== w[0]) fail(n, `the input has ${x[x.length - 1]} features, the weights expect ${w[0]}`);
    return [...x.slice(0, -1), w[1]];
  },
  backward(n, dy, c) {
    const dW = c.needsGrad(n.inputs[1]) ? weightGrad(n, dy, c) : null;
    if (!c.needsGrad(n.inputs[0])) return [null, dW];
    return [c.b.op('MatMul', [dy, weightsT(n, c)], {}, `${n.name}_grad`), dW];
  }
};

const scaled = (c: RuleContext, x: string, k: number, name: string): string =>
  k === 1 ? x : c.b.op('Mul', [x, c.b.scalar(k, `${name}_factor`)], {}, name);

const gemm: OpRule = {
  shape(n, c) {
    const x = c.shape(n.inputs[0]);
    if (x.length !== 1) fail(n, `Gemm needs a [batch, features] input, got a per-sample shape [${x.join(', ')}]`);
    if (intAttr(n, 'transA', 0) !== 0) fail(n, 'transA = 1 is not supported (the batch must be the first axis)');
    const w = weights(n, c);
    const [k, m] = intAttr(n, 'transB', 0) ? [w[1], w[0]] : w;
    if (x[0] !== k) fail(n, `the input has ${x[0]} features, the weights expect ${k}`);
    return [m];
  },
  backward(n, dy, c) {
    const alpha = floatAttr(n, 'alpha', 1);
    const transB = intAttr(n, 'transB', 0) === 1;
    let dW: string | null = null;
    if (c.needsGrad(n.inputs[1])) {
      // d(x B')/dB' = x^T dy; B' = B^T under transB, so dB = dy^T x.
      const g = transB
        ? c.b.op('MatMul', [c.b.op('Transpose', [dy], { perm: [1, 0] }), n.inputs[0]], {}, `${n.name}_weight_grad_t`)
        : weightGrad(n, dy, c);
      dW = scaled(c, g, alpha, `${n.name}_weight_grad_alpha`);
    }
    let dC: string | null = null;
    const bias = n.inputs[2];
    if (bias && c.needsGrad(bias)) {
      const dims = paramDims(n, 2, c);
      if (dims.length > 1 && dims[0] !== 1) fail(n, `a bias of dims [${dims}] varies over the batch`);
      const sum = c.b.op('ReduceSum', [dy, c.b.constant('axes_0', i64([0]))], { keepdims: 0 }, `${n.name}_bias_sum`);
      const total = dims.length === 1 && dims[0] === 1 ? c.b.op('ReduceSum', [sum], { keepdims: 1 }) : sum;
      dC = scaled(
        c,
        c.b.op('Reshape', [total, c.b.constant('shape', i64(dims))]),
        floatAttr(n, 'beta', 1),
        `${n.name}_bias_grad`
      );
    }
    if (!c.needsGrad(n.inputs[0])) return [null, dW, dC];
    // dx = alpha * dy * (B')^T, B' = B^T when transB: so dy * B, else dy * B^T.
    const back = transB ? n.inputs[1] : weightsT(n, c);
    const dx = scaled(c, c.b.op('MatMul', [dy, back], {}, `${n.name}_grad`), alpha, `${n.name}_grad_alpha`);
    return [dx, dW, dC];
  }
};

export const LINEAR_RULES: Record<string, OpRule> = { MatMul: matMul, Gemm: gemm };
