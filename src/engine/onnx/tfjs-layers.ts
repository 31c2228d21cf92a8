/*
 * One TF.js layer in the compiler's IR (from-tfjs.ts walks the model): the windowed layers come from
 * tfjs-window-layers.ts; here Dense, the reshapes (Flatten and Reshape keep TF's (h, w, c) order by
 * transposing back to NHWC first), BatchNormalization at inference as Mul + Add, the activation layers,
 * the merges, padding and the layers that are the identity at inference. A layer's output value is
 * named after the layer. Refuses, naming the layer, anything it cannot translate exactly.
 */
import type * as tf from '@tensorflow/tfjs';
import { f32, i64 } from './ir';
import type { Reader, Value } from './tfjs-reader';
import { convLayer, globalPoolLayer, poolLayer } from './tfjs-window-layers';

/** The output value of `layer`, from its (already translated) inputs. */
export function translateLayer(r: Reader, layer: tf.layers.Layer, inputs: Value[]): Value {
  const call = r.begin(layer, inputs);
  const { cfg, name, cls, x, rank } = call;
  const b = r.b;
  const out = (tfShape: number[]): Value => ({ name, tfShape });

  switch (cls) {
    case 'Conv2D':
    case 'DepthwiseConv2D':
      return convLayer(r, call);
    case 'MaxPooling2D':
    case 'AveragePooling2D':
      return poolLayer(r, call);
    case 'GlobalAveragePooling2D':
    case 'GlobalMaxPooling2D':
      return globalPoolLayer(r, call);
    case 'Dense': {
      if (rank !== 1) r.fail(`Dense on a per-sample shape [${x.tfShape.join(', ')}] is not supported; flatten first`);
      const kernel = r.weight('kernel');
      const bias = r.maybeWeight('bias');
      const act = String(cfg.activation ?? 'linear');
      const mm = bias || act !== 'linear' ? b.fresh(`${name}/matmul`) : name;
      let y = r.emit('MatMul', [x.name, b.constant(`${name}/kernel`, f32(kernel.shape, kernel.data))], {}, mm);
      if (bias)
        y = r.emit(
          'Add',
          [y, b.constant(`${name}/bias`, f32([bias.length], bias))],
          {},
          act !== 'linear' ? b.fresh(`${name}/biased`) : name
        );
      if (act !== 'linear') r.activation(y, act, 1, name);
      return out([kernel.shape[1]]);
    }
    case 'Flatten': {
      const size = x.tfShape.reduce((a, v) => a * v, 1);
      const nhwc = rank === 3 ? b.op('Transpose', [x.name], { perm: [0, 2, 3, 1] }, `${name}/nhwc`) : x.name;
      r.output('flatten', 'Flatten', [nhwc], { axis: 1 });
      return out([size]);
    }
    case 'Reshape': {
      const size = x.tfShape.reduce((a, v) => a * v, 1);
      const target = (cfg.targetShape as number[]).slice();
      const known = target.filter((v) => v !== -1).reduce((a, v) => a * v, 1);
      const shape = target.map((v) => (v === -1 ? size / known : v));
      if (shape.length !== 1 && shape.length !== 3)
        r.fail(`a per-sample target of rank ${shape.length} is not supported (1 or 3)`);
      const nhwc = rank === 3 ? b.op('Transpose', [x.name], { perm: [0, 2, 3, 1] }, `${name}/nhwc`) : x.name;
      const flatShape = shape.length === 3 ? shape : [shape[0]];
      const reshaped = r.emit(
        'Reshape',
        [nhwc, b.constant(`${name}/shape`, i64([-1, ...flatShape]))],
        {},
        shape.length === 3 ? b.fresh(`${name}/reshaped`) : name
      );
      if (shape.length === 3) r.emit('Transpose', [reshaped], { perm: [0, 3, 1, 2] }, name);
      return out(shape);
    }
    case 'BatchNormalization': {
      const axis = Number(Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1));
      if (axis !== -1 && axis !== rank) r.fail(`normalises axis ${axis}; only the channel axis (-1) is supported`);
      const channels = x.tfShape[rank - 1];
      const eps = Number(cfg.epsilon ?? 1e-3);
      const gamma = r.maybeWeight('gamma') ?? new Float32Array(channels).fill(1);
      const beta = r.maybeWeight('beta') ?? new Float32Array(channels);
      const mean = r.weight('moving_mean').data,
        variance = r.weight('moving_variance').data;
      const scale = Array.from(gamma, (g, i) => g / Math.sqrt(variance[i] + eps));
      const shift = Array.from(beta, (v, i) => v - mean[i] * scale[i]);
      const scaled = b.op('Mul', [x.name, r.channelConst(`${name}/scale`, scale, rank)], {}, `${name}/scaled`);
      // The node's name is taken before its constant's (both start '<layer>/shift'), as the graphs always had it.
      b.nodes.push({
        op: 'Add',
        name: b.fresh(`${name}/shift`),
        inputs: [scaled, r.channelConst(`${name}/shift`, shift, rank)],
        outputs: [name],
        attrs: {}
      });
      return out(x.tfShape);
    }
    case 'Activation':
      r.activation(x.name, String(cfg.activation), rank, name);
      return out(x.tfShape);
    case 'ReLU':
      if (cfg.maxValue !== undefined && cfg.maxValue !== null) {
        r.output('clip', 'Clip', [x.name, b.scalar(0, `${name}/min`), b.scalar(Number(cfg.maxValue), `${name}/max`)]);
      } else r.activation(x.name, 'relu', rank, name);
      return out(x.tfShape);
    case 'LeakyReLU':
      r.output('leaky', 'LeakyRelu', [x.name], { alpha: { f: Number(cfg.alpha ?? 0.3) } });
      return out(x.tfShape);
    case 'ELU':
      r.output('elu', 'Elu', [x.name], { alpha: { f: Number(cfg.alpha ?? 1) } });
      return out(x.tfShape);
    case 'Softmax':
      {
        const axis = Number(Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1));
        if ((axis + rank + 1) % (rank + 1) !== rank)
          r.fail(`softmax over axis ${axis}: only the last axis is supported`);
      }
      r.activation(x.name, 'softmax', rank, name);
      return out(x.tfShape);
    case 'Add':
    case 'Multiply': {
      const op = cls === 'Add' ? 'Add' : 'Mul';
      // Broadcasting of equal ranks (a squeeze-excitation's [1, 1, C] onto [H, W, C]) means the same in NCHW.
      const shape = x.tfShape.map((_, i) => Math.max(...inputs.map((v) => v.tfShape[i] ?? 0)));
      if (inputs.some((v) => v.tfShape.length !== rank || v.tfShape.some((d, i) => d !== 1 && d !== shape[i])))
        r.fail(
          `inputs of shapes ${inputs.map((v) => `[${v.tfShape.join(', ')}]`).join(', ')} do not broadcast axis by axis`
        );
      let acc = x.name;
      inputs
        .slice(1)
        .forEach(
          (v, i) => (acc = r.emit(op, [acc, v.name], {}, i === inputs.length - 2 ? name : b.fresh(`${name}/partial`)))
        );
      return out(shape);
    }
    case 'Concatenate': {
      const axis = Number(cfg.axis ?? -1);
      if (axis !== -1 && axis !== rank) r.fail(`concatenates axis ${axis}; only the channel axis (-1) is supported`);
      r.output(
        'concat',
        'Concat',
        inputs.map((v) => v.name),
        { axis: 1 }
      );
      return out([...x.tfShape.slice(0, -1), inputs.reduce((n, v) => n + v.tfShape[rank - 1], 0)]);
    }
    case 'ZeroPadding2D': {
      const [h, w, c] = r.image(call);
      const p = cfg.padding as number[][];
      const [[t, bo], [l, ri]] = p;
      r.output('pad', 'Pad', [x.name, b.constant(`${name}/pads`, i64([0, 0, t, l, 0, 0, bo, ri]))], {
        mode: 'constant'
      });
      return out([h + t + bo, w + l + ri, c]);
    }
    case 'Dropout':
    case 'SpatialDropout2D':
    case 'GaussianNoise':
      r.output('identity', 'Identity', [x.name]);
      return out(x.tfShape);
    default:
      r.fail('this layer type has no ONNX translation (see README: the ONNX engine)');
  }
}
