/*
 * The update half of the training-step graph (train-graph.ts): the global gradient norm, clipping by
 * it (clipNorm input, 0 = off), and SGD as MomentumSgd (sgd.ts) with the learning rate an input:
 * g = clipped grad + wd w, v = mu v + g, w = w - lr v; each parameter and its momentum are inputs and
 * their next values outputs; the tap kernel's path-length increment ||W_t - W_{t-1}||_F an output.
 */
import type { GraphBuilder, IrValueInfo, ModelIr } from './ir';
import type { TrainGraphRequest, TrainParam } from './train-graph';
import { TRAIN_INPUTS } from './train-inputs';

export function emitUpdate(
  b: GraphBuilder,
  o: { model: ModelIr; request: TrainGraphRequest; grads: readonly string[]; inputs: IrValueInfo[] }
): { gradNorm: string; params: TrainParam[]; pathStep: string | null; outputs: IrValueInfo[] } {
  const squares = o.grads.map((g) => b.op('ReduceSumSquare', [g], { keepdims: 0 }));
  const gradNorm = b.op('Sqrt', [squares.reduce((a, s) => b.op('Add', [a, s]))], {}, 'grad_norm');
  const clip = TRAIN_INPUTS.clip;
  const clipping = b.op(
    'And',
    [b.op('Greater', [clip, b.scalar(0)]), b.op('Greater', [gradNorm, clip])],
    {},
    'clipping'
  );
  const factor = b.op('Where', [clipping, b.op('Div', [clip, gradNorm]), b.scalar(1)], {}, 'clip_factor');
  let pathStep: string | null = null;
  const outputs: IrValueInfo[] = [];
  const params: TrainParam[] = [];
  o.request.trainable.forEach((p, i) => {
    const dims = o.model.initializers.get(p)!.dims;
    const momentumInput = b.fresh(`${p}__momentum`);
    let g = b.op('Mul', [o.grads[i], factor], {}, `${p}__clipped`);
    if (o.request.weightDecay > 0)
      g = b.op('Add', [g, b.op('Mul', [p, b.scalar(o.request.weightDecay, 'weight_decay')])], {}, `${p}__decayed`);
    const v =
      o.request.momentum > 0
        ? b.op(
            'Add',
            [b.op('Mul', [momentumInput, b.scalar(o.request.momentum, 'momentum')]), g],
            {},
            `${p}__momentum_next`
          )
        : g;
    const next = b.op('Sub', [p, b.op('Mul', [v, TRAIN_INPUTS.lr])], {}, `${p}__next`);
    const vOut = v === g ? b.op('Identity', [g], {}, `${p}__momentum_next`) : v;
    params.push({ name: p, dims, momentumInput, next, momentumNext: vOut });
    o.inputs.push({ name: p, type: 'float', shape: dims }, { name: momentumInput, type: 'float', shape: dims });
    outputs.push({ name: next, type: 'float', shape: dims }, { name: vOut, type: 'float', shape: dims });
    if (p === o.request.tapKernel) {
      const moved = b.op('Sub', [next, p]);
      pathStep = b.op('Sqrt', [b.op('ReduceSumSquare', [moved], { keepdims: 0 })], {}, 'path_step');
      outputs.push({ name: pathStep, type: 'float', shape: [] });
    }
  });
  return { gradNorm, params, pathStep, outputs };
}
