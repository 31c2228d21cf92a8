/*
 * The losses of the training-step graph (train-graph.ts), each as its value and its gradient with
 * respect to the network value it reads, written out in ONNX ops (the step graph has no autograd):
 * softmax cross-entropy on one-hot labels, stage 1's feature regression, and Hinton's logit
 * distillation exactly as distill-losses.ts defines it on TF.js (alpha T^2 KL(softmax(t/T) ||
 * softmax(s/T)) + (1 - alpha) CE(labels, s), batch means) and Zagoruyko and Komodakis' attention
 * transfer, both exactly as distill-losses.ts defines them on TF.js. Every term is a mean over the
 * batch, whose size (a float scalar) the caller passes.
 */
import { i64, type GraphBuilder } from './ir';
import { CompileError } from './rules/rule';

export interface LossTerm {
  loss: string;
  /** dLoss / d(the value the term reads), same shape as that value. */
  grad: string;
}

/** log softmax over the classes of [n, k] logits (shifted by the row maximum, as TF.js does). */
function logSoftmax(b: GraphBuilder, z: string, name: string): string {
  const shifted = b.op('Sub', [z, b.op('ReduceMax', [z], { axes: [1], keepdims: 1 })], {}, `${name}_shifted`);
  const lse = b.op(
    'Log',
    [b.op('ReduceSum', [b.op('Exp', [shifted]), b.constant('axes_1', i64([1]))], { keepdims: 1 })],
    {},
    `${name}_log_sum_exp`
  );
  return b.op('Sub', [shifted, lse], {}, `${name}_log_probabilities`);
}

/** Softmax cross-entropy of [n, k] logits against one-hot labels, mean over the batch. */
export function crossEntropy(b: GraphBuilder, o: { logits: string; onehot: string; batch: string }): LossTerm {
  const logp = logSoftmax(b, o.logits, 'logits');
  const total = b.op('ReduceSum', [b.op('Mul', [o.onehot, logp])], { keepdims: 0 }, 'log_likelihood');
  const loss = b.op('Neg', [b.op('Div', [total, o.batch])], {}, 'cross_entropy');
  const grad = b.op('Div', [b.op('Sub', [b.op('Exp', [logp]), o.onehot]), o.batch], {}, 'logits_grad');
  return { loss, grad };
}

/** scale * mean over batch and elements of (value - target)^2; value has per-sample shape `shape`, target [n, size]. */
export function featureRegression(
  b: GraphBuilder,
  o: { value: string; shape: readonly number[]; target: string; scale: number; batch: string }
): LossTerm {
  const size = o.shape.reduce((a, v) => a * v, 1);
  const flat = b.op('Reshape', [o.value, b.constant('flat_shape', i64([-1, size]))], {}, 'feature_flat');
  const diff = b.op('Sub', [flat, o.target], {}, 'feature_diff');
  const count = b.op('Mul', [o.batch, b.scalar(size, 'feature_size')], {}, 'feature_count');
  const sq = b.op('ReduceSum', [b.op('Mul', [diff, diff])], { keepdims: 0 }, 'feature_squares');
  const loss = b.op('Mul', [b.op('Div', [sq, count]), b.scalar(o.scale, 'feature_scale')], {}, 'feature_loss');
  const k = b.op('Div', [b.scalar(2 * o.scale, 'two_scale'), count], {}, 'feature_grad_factor');
  return { loss, grad: b.reshapeBatch(b.op('Mul', [diff, k]), o.shape, 'feature_grad') };
}

/**
 * Hinton's loss of the student's [n, k] logits against the teacher's (fed per batch):
 * alpha T^2 mean_n KL(p_T || p_S) with p = softmax(z / T), plus (1 - alpha) CE(labels, z_S) when
 * alpha < 1. d(soft)/dz_S = alpha T (softmax(z_S / T) - p_T) / n.
 */
export function logitDistillation(
  b: GraphBuilder,
  o: { logits: string; teacher: string; onehot: string; batch: string; temperature: number; alpha: number }
): LossTerm {
  const t = o.temperature;
  const temperature = b.scalar(t, 'temperature');
  const logPS = logSoftmax(b, b.op('Div', [o.logits, temperature], {}, 'student_soft_logits'), 'student_soft');
  const logPT = logSoftmax(b, b.op('Div', [o.teacher, temperature], {}, 'teacher_soft_logits'), 'teacher_soft');
  const pT = b.op('Exp', [logPT], {}, 'teacher_soft_probabilities');
  const klSum = b.op('ReduceSum', [b.op('Mul', [pT, b.op('Sub', [logPT, logPS])])], { keepdims: 0 }, 'kl_sum');
  const soft = b.op('Mul', [b.op('Div', [klSum, o.batch]), b.scalar(o.alpha * t * t, 'alpha_t2')], {}, 'soft_loss');
  const softGrad = b.op(
    'Mul',
    [
      b.op('Sub', [b.op('Exp', [logPS]), pT], {}, 'soft_difference'),
      b.op('Div', [b.scalar(o.alpha * t, 'alpha_t'), o.batch])
    ],
    {},
    'soft_grad'
  );
  if (o.alpha >= 1) return { loss: soft, grad: softGrad };
  const hard = crossEntropy(b, o);
  const weight = b.scalar(1 - o.alpha, 'hard_weight');
  return {
    loss: b.op('Add', [soft, b.op('Mul', [hard.loss, weight])], {}, 'distill_loss'),
    grad: b.op('Add', [softGrad, b.op('Mul', [hard.grad, weight])], {}, 'distill_grad')
  };
}

/** The attention map of [n, c, h, w] activations: mean over channels of a^2, [n, h*w], L2-normalised per image (norm >= 1e-12). */
function attentionMap(
  b: GraphBuilder,
  o: { a3: string; name: string }
): { q: string; norm: string; r: string; map: string } {
  const q = b.op('ReduceMean', [b.op('Mul', [o.a3, o.a3])], { axes: [1], keepdims: 0 }, `${o.name}_channel_mean`);
  const norm = b.op('Sqrt', [b.op('ReduceSumSquare', [q], { axes: [1], keepdims: 1 })], {}, `${o.name}_norm`);
  const r = b.op('Max', [norm, b.scalar(1e-12, 'norm_floor')], {}, `${o.name}_norm_floored`);
  return { q, norm, r, map: b.op('Div', [q, r], {}, `${o.name}_map`) };
}

/**
 * Zagoruyko and Komodakis' attention transfer as distill-losses.ts defines it: beta / 2 * sum over
 * layers of mean((Q_S - Q_T)^2), Q the normalised attention map. Each layer's student value has
 * per-sample shape [c, h, w]; the teacher's activation at the same layer is fed as [n, c*h*w]
 * (channels first, as the teacher's features graph writes it). Gradient per layer, with
 * G = beta (Q_S - Q_T) / (n h w): dq = (G - Q_S <Q_S, G>) / r (the projection term only where the
 * norm was not floored), da = dq * 2 a / c.
 */
export function attentionTransfer(
  b: GraphBuilder,
  o: { layers: readonly { value: string; shape: readonly number[]; teacher: string }[]; beta: number; batch: string }
): { loss: string; grads: { value: string; grad: string }[] } {
  const terms: string[] = [];
  const grads: { value: string; grad: string }[] = [];
  o.layers.forEach((l, i) => {
    if (l.shape.length !== 3)
      throw new CompileError(`attention layer ${i}: per-sample shape [${l.shape}] is not [c, h, w]`);
    const [c, h, w] = l.shape;
    const shape3 = b.constant(`attention_shape_${i}`, i64([-1, c, h * w]));
    const s = attentionMap(b, {
      a3: b.op('Reshape', [l.value, shape3], {}, `student_attention_${i}`),
      name: `student_${i}`
    });
    const t = attentionMap(b, {
      a3: b.op('Reshape', [l.teacher, shape3], {}, `teacher_attention_${i}`),
      name: `teacher_${i}`
    });
    const d = b.op('Sub', [s.map, t.map], {}, `attention_difference_${i}`);
    const count = b.op('Mul', [o.batch, b.scalar(h * w, `attention_size_${i}`)], {}, `attention_count_${i}`);
    terms.push(
      b.op('Div', [b.op('ReduceSum', [b.op('Mul', [d, d])], { keepdims: 0 }), count], {}, `attention_term_${i}`)
    );
    const g = b.op('Mul', [d, b.op('Div', [b.scalar(o.beta, 'attention_beta'), count])], {}, `attention_map_grad_${i}`);
    const dot = b.op('ReduceSum', [b.op('Mul', [s.map, g]), b.constant('axes_1', i64([1]))], { keepdims: 1 });
    const unfloored = b.op('Cast', [b.op('Greater', [s.norm, b.scalar(1e-12, 'norm_floor')])], { to: 1 });
    const projection = b.op('Mul', [s.map, b.op('Mul', [dot, unfloored])]);
    const dq = b.op('Div', [b.op('Sub', [g, projection]), s.r], {}, `attention_q_grad_${i}`);
    const dq3 = b.op('Reshape', [dq, b.constant(`attention_q_shape_${i}`, i64([-1, 1, h * w]))]);
    const a3 = b.op('Reshape', [l.value, shape3]);
    const da = b.op('Mul', [dq3, b.op('Mul', [a3, b.scalar(2 / c, `two_over_c_${i}`)])], {}, `attention_grad_${i}`);
    grads.push({ value: l.value, grad: b.reshapeBatch(da, l.shape, `attention_grad_${i}_4d`) });
  });
  const sum = terms.slice(1).reduce((acc, t) => b.op('Add', [acc, t]), terms[0]);
  return { loss: b.op('Mul', [sum, b.scalar(o.beta / 2, 'half_beta')], {}, 'attention_loss'), grads };
}
