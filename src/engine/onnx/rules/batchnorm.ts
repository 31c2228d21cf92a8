/*
 * BatchNormalization with gradients for training (the inference form with constant parameters
 * stays in elementwise.ts). With training_mode = 1 the forward node normalises by the batch's
 * statistics (mean and biased variance over every axis but the channel) and outputs the running
 * statistics updated by momentum (running * m + batch * (1 - m), as TF.js and ONNX define it); with
 * training_mode = 0 it uses the running statistics. The backward pass recomputes the batch
 * statistics from x and uses the closed forms, with M values per channel and x^ = (x - mean) / s:
 *   dbeta = sum dy,  dgamma = sum dy x^,
 *   dx = gamma / s (dy - dbeta / M - x^ dgamma / M)   (training; gamma / s dy at inference).
 */
import { i64, type IrNode } from '../ir';
import { type RuleContext, floatAttr, intAttr, paramDims } from './rule';

export const isTrainingBn = (n: IrNode): boolean => intAttr(n, 'training_mode', 0) === 1;

/** Whether a BatchNormalization node needs this file's rule (batch statistics, or a parameter to train). */
export const needsBnTraining = (n: IrNode, c: RuleContext): boolean =>
  isTrainingBn(n) || c.needsGrad(n.inputs[1]) || c.needsGrad(n.inputs[2]) || !c.constant(n.inputs[1]);

export function bnBackward(n: IrNode, dy: string, c: RuleContext): (string | null)[] {
  const b = c.b;
  const [x, gamma, beta, runMean, runVar] = n.inputs;
  const s = c.shape(x);
  const channels = paramDims(n, 1, c)[0];
  const perChannel = [channels, ...s.slice(1).map(() => 1)];
  const axes = [0, ...s.slice(1).map((_, i) => i + 2)];
  const shape = (dims: number[]): string => b.constant('shape', i64(dims));
  const eps = b.scalar(floatAttr(n, 'epsilon', 1e-5), `${n.name}_epsilon`);
  const training = isTrainingBn(n);
  const mean = training
    ? b.op('ReduceMean', [x], { axes, keepdims: 1 }, `${n.name}_batch_mean`)
    : b.op('Reshape', [runMean, shape(perChannel)], {}, `${n.name}_mean`);
  const centred = b.op('Sub', [x, mean], {}, `${n.name}_centred`);
  const variance = training
    ? b.op('ReduceMean', [b.op('Mul', [centred, centred])], { axes, keepdims: 1 }, `${n.name}_batch_variance`)
    : b.op('Reshape', [runVar, shape(perChannel)], {}, `${n.name}_variance`);
  const inv = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [variance, eps])])], {}, `${n.name}_inverse_std`);
  const xhat = b.op('Mul', [centred, inv], {}, `${n.name}_normalised`);
  const axesInput = b.constant('axes', i64(axes));
  const dBeta = b.op('ReduceSum', [dy, axesInput], { keepdims: 1 }, `${n.name}_beta_sum`);
  const dGamma = b.op('ReduceSum', [b.op('Mul', [dy, xhat]), axesInput], { keepdims: 1 }, `${n.name}_gamma_sum`);
  const slope = b.op('Mul', [b.op('Reshape', [gamma, shape(perChannel)]), inv], {}, `${n.name}_slope`);
  let dx: string | null = null;
  if (c.needsGrad(x)) {
    if (!training) dx = b.op('Mul', [dy, slope], {}, `${n.name}_grad`);
    else {
      const m = b.op('Div', [b.op('Cast', [b.op('Size', [x])], { to: 1 }), b.scalar(channels)], {}, `${n.name}_count`);
      const inner = b.op('Sub', [
        b.op('Sub', [dy, b.op('Div', [dBeta, m])]),
        b.op('Mul', [xhat, b.op('Div', [dGamma, m])])
      ]);
      dx = b.op('Mul', [inner, slope], {}, `${n.name}_grad`);
    }
  }
  const flat = shape([channels]);
  return [
    dx,
    c.needsGrad(gamma) ? b.op('Reshape', [dGamma, flat], {}, `${n.name}_gamma_grad`) : null,
    c.needsGrad(beta) ? b.op('Reshape', [dBeta, flat], {}, `${n.name}_beta_grad`) : null,
    null,
    null
  ];
}
