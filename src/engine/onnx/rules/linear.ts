/*
 * Backward rules of the matrix products with constant weights: MatMul (x W) and Gemm
 * (alpha x B' + beta C). The input gradient is dy times the transposed weights, a constant
 * computed once at compile time.
 */
import { f32, type IrTensor } from '../ir';
import { type OpRule, fail, floatAttr, intAttr } from './rule';

function transposed(t: IrTensor): IrTensor {
  const [r, k] = t.dims;
  const src = t.data as Float32Array;
  const out = new Float32Array(r * k);
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) out[j * r + i] = src[i * k + j];
  return f32([k, r], out);
}

function weights(n: Parameters<OpRule['shape']>[0], c: Parameters<OpRule['shape']>[1]): IrTensor {
  const w = c.constant(n.inputs[1]);
  if (!w) fail(n, 'the second input (weights) must be a constant');
  if (w.dims.length !== 2 || w.type !== 'float')
    fail(n, `the weights must be a float matrix, got dims [${w.dims.join(', ')}]`);
  return w;
}

const matMul: OpRule = {
  shape(n, c) {
    const x = c.shape(n.inputs[0]);
    const w = weights(n, c);
    if (x[x.length - 1] !== w.dims[0])
      fail(n, `the input has ${x[x.length - 1]} features, the weights expect ${w.dims[0]}`);
    return [...x.slice(0, -1), w.dims[1]];
  },
  backward(n, dy, c) {
    const wt = c.b.constant(`${n.name}_weights_t`, transposed(weights(n, c)));
    return [c.b.op('MatMul', [dy, wt], {}, `${n.name}_grad`), null];
  }
};

const gemm: OpRule = {
  shape(n, c) {
    const x = c.shape(n.inputs[0]);
    if (x.length !== 1) fail(n, `Gemm needs a [batch, features] input, got a per-sample shape [${x.join(', ')}]`);
    if (intAttr(n, 'transA', 0) !== 0) fail(n, 'transA = 1 is not supported (the batch must be the first axis)');
    const w = weights(n, c);
    const [k, m] = intAttr(n, 'transB', 0) ? [w.dims[1], w.dims[0]] : w.dims;
    if (x[0] !== k) fail(n, `the input has ${x[0]} features, the weights expect ${k}`);
    return [m];
  },
  backward(n, dy, c) {
    const w = weights(n, c);
    // dx = alpha * dy * (B')^T, B' = B^T when transB: so dy * B, else dy * B^T.
    const back = intAttr(n, 'transB', 0) ? n.inputs[1] : c.b.constant(`${n.name}_weights_t`, transposed(w));
    let dx = c.b.op('MatMul', [dy, back], {}, `${n.name}_grad`);
    const alpha = floatAttr(n, 'alpha', 1);
    if (alpha !== 1) dx = c.b.op('Mul', [dx, c.b.scalar(alpha, `${n.name}_alpha`)], {}, `${n.name}_grad_alpha`);
    return [dx, null, null];
  }
};

export const LINEAR_RULES: Record<string, OpRule> = { MatMul: matMul, Gemm: gemm };
