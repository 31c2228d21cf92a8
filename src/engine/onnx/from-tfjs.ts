/*
 * Reads a TF.js LayersModel (Sequential or functional) into the compiler's IR: NHWC becomes NCHW
 * (kernels transposed to ONNX's [out, in, kh, kw]), TF's 'same' padding becomes explicit (and
 * asymmetric) pads, Flatten keeps TF's (h, w, c) order by transposing back to NHWC first, fused
 * activations become nodes of their own, BatchNormalization at inference becomes Mul + Add. Every
 * layer's output value is named after the layer, so each layer is a tap.
 * Refuses, naming the layer, anything it cannot translate exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { GraphBuilder, f32, i64, type IrTensor, type ModelIr } from './ir';
import { CompileError, withSource } from './rules/rule';

type Config = Record<string, unknown>;
/** Per value: its per-sample shape in TF order and whether it is an image (NCHW in the IR). */
interface Value {
  name: string;
  tfShape: number[];
}

const pair = (v: unknown, fallback: number): [number, number] =>
  Array.isArray(v)
    ? [Number(v[0]), Number(v[1])]
    : v === undefined || v === null
      ? [fallback, fallback]
      : [Number(v), Number(v)];

/** TF's padding for one axis: 'valid' none; 'same' total = max((ceil(n/s) - 1) s + k_eff - n, 0), the extra pixel at the end. */
export function tfPads(
  size: number,
  { kernel, stride, dilation }: { kernel: number; stride: number; dilation: number },
  padding: string
): [number, number] {
  if (padding === 'valid') return [0, 0];
  const eff = (kernel - 1) * dilation + 1;
  const total = Math.max((Math.ceil(size / stride) - 1) * stride + eff - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** TF kernel [kh, kw, cin, cout] -> ONNX [cout, cin, kh, kw]. */
function convKernel(k: Float32Array, [kh, kw, cin, cout]: number[]): IrTensor {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * cout + o];
  return f32([cout, cin, kh, kw], out);
}

/** TF depthwise kernel [kh, kw, cin, mult] -> ONNX [cin * mult, 1, kh, kw] (output channel i * mult + m). */
function depthwiseKernel(k: Float32Array, [kh, kw, cin, mult]: number[]): IrTensor {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let m = 0; m < mult; m++) out[((i * mult + m) * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * mult + m];
  return f32([cin * mult, 1, kh, kw], out);
}

/** Weight values read ahead, by variable (GPU backends have no synchronous readback in Node). */
export type WeightValues = ReadonlyMap<tf.LayerVariable, Float32Array>;

class Reader {
  readonly b = new GraphBuilder();
  readonly values = new Map<string, Value>();
  private layer!: tf.layers.Layer;

  constructor(private readonly preread: WeightValues | null) {}

  fail(problem: string): never {
    throw new CompileError(`layer '${this.layer.name}' (${this.layer.getClassName()}): ${problem}`);
  }

  weight(suffix: string): { data: Float32Array; shape: number[] } {
    const w = this.layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`) || v.name.endsWith(`/${suffix}`));
    if (!w) this.fail(`has no ${suffix} weights`);
    const data = this.preread ? this.preread.get(w) : (w.read().dataSync() as Float32Array);
    if (!data) this.fail(`its ${suffix} weights were not read ahead`);
    return { data, shape: w.shape as number[] };
  }

  maybeWeight(suffix: string): Float32Array | null {
    return this.layer.weights.some((v) => v.originalName.endsWith(`/${suffix}`)) ? this.weight(suffix).data : null;
  }

  /** Adds a node whose output is the given name (a layer's output keeps the layer's name). */
  emit(op: string, inputs: string[], attrs: Record<string, unknown>, output: string): string {
    this.b.nodes.push({
      op,
      name: this.b.fresh(`${this.layer.name}/${op}`),
      inputs,
      outputs: [output],
      attrs: attrs as never
    });
    return output;
  }

  /** A channel-wise constant broadcastable onto a value (shape [C, 1, 1] for images, [C] for vectors). */
  channelConst(hint: string, values: ArrayLike<number>, rank: number): string {
    return this.b.constant(hint, f32(rank === 3 ? [values.length, 1, 1] : [values.length], values));
  }

  activation(x: string, kind: string, rank: number, out: string): string {
    const b = this.b;
    const name = this.layer.name;
    const node = (op: string, inputs: string[], attrs = {}): string => (
      b.nodes.push({ op, name: b.fresh(`${name}/${op}`), inputs, outputs: [out], attrs }),
      out
    );
    switch (kind) {
      case 'linear':
        return x === out ? x : node('Identity', [x]);
      case 'relu':
        return node('Relu', [x]);
      case 'relu6':
        return node('Clip', [x, b.scalar(0, `${name}/min`), b.scalar(6, `${name}/max`)]);
      case 'elu':
        return node('Elu', [x], { alpha: { f: 1 } });
      case 'sigmoid':
        return node('Sigmoid', [x]);
      case 'tanh':
        return node('Tanh', [x]);
      case 'hardSigmoid':
        return node('HardSigmoid', [x], { alpha: { f: 0.2 }, beta: { f: 0.5 } });
      case 'swish':
        return node('Mul', [x, b.op('Sigmoid', [x], {}, `${name}/sigmoid`)]);
      case 'softmax':
        return node('Softmax', [x], { axis: rank === 3 ? 1 : -1 });
      default:
        this.fail(
          `activation '${kind}' is not supported (relu, relu6, elu, sigmoid, tanh, hardSigmoid, swish, softmax, linear)`
        );
    }
  }

  /** The output value of this layer, from its (already translated) inputs. */
  translate(layer: tf.layers.Layer, inputs: Value[]): Value {
    this.layer = layer;
    const b = this.b;
    const cfg = layer.getConfig() as Config;
    const name = layer.name;
    const x = inputs[0];
    const rank = x?.tfShape.length;
    const cls = layer.getClassName();
    const image = (): [number, number, number] => {
      if (rank !== 3) this.fail(`expects an image input, got a per-sample shape [${x.tfShape.join(', ')}]`);
      if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast')
        this.fail(`dataFormat ${String(cfg.dataFormat)} is not supported`);
      return x.tfShape as [number, number, number];
    };
    const out = (tfShape: number[]): Value => ({ name, tfShape });
    const windowPads = (
      [h, w]: [number, number],
      k: [number, number],
      s: [number, number],
      d: [number, number]
    ): number[] => {
      const padding = String(cfg.padding ?? 'valid');
      const [t, bo] = tfPads(h, { kernel: k[0], stride: s[0], dilation: d[0] }, padding);
      const [l, r] = tfPads(w, { kernel: k[1], stride: s[1], dilation: d[1] }, padding);
      return [t, l, bo, r];
    };
    const outSide = (n: number, k: number, s: number, d: number): number =>
      cfg.padding === 'same' ? Math.ceil(n / s) : Math.floor((n - ((k - 1) * d + 1)) / s) + 1;

    switch (cls) {
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        const [h, w, c] = image();
        const k = pair(cfg.kernelSize, 1),
          s = pair(cfg.strides, 1),
          d = pair(cfg.dilationRate, 1);
        if ((s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1))
          this.fail('strides and dilations together are not supported by TF');
        const depthwise = cls === 'DepthwiseConv2D';
        const kernel = this.weight(depthwise ? 'depthwise_kernel' : 'kernel');
        const wt = depthwise ? depthwiseKernel(kernel.data, kernel.shape) : convKernel(kernel.data, kernel.shape);
        const bias = this.maybeWeight('bias');
        const act = String(cfg.activation ?? 'linear');
        const convOut = act === 'linear' ? name : b.fresh(`${name}/conv`);
        const ins = [
          x.name,
          b.constant(`${name}/kernel`, wt),
          ...(bias ? [b.constant(`${name}/bias`, f32([bias.length], bias))] : [])
        ];
        b.nodes.push({
          op: 'Conv',
          name: b.fresh(`${name}/Conv`),
          inputs: ins,
          outputs: [convOut],
          attrs: {
            strides: s,
            dilations: d,
            pads: windowPads([h, w], k, s, d),
            group: depthwise ? c : 1,
            kernel_shape: k
          }
        });
        this.activation(convOut, act, 3, name);
        return out([outSide(h, k[0], s[0], d[0]), outSide(w, k[1], s[1], d[1]), wt.dims[0]]);
      }
      case 'Dense': {
        if (rank !== 1)
          this.fail(`Dense on a per-sample shape [${x.tfShape.join(', ')}] is not supported; flatten first`);
        const kernel = this.weight('kernel');
        const bias = this.maybeWeight('bias');
        const act = String(cfg.activation ?? 'linear');
        const mm = bias || act !== 'linear' ? b.fresh(`${name}/matmul`) : name;
        let y = this.emit('MatMul', [x.name, b.constant(`${name}/kernel`, f32(kernel.shape, kernel.data))], {}, mm);
        if (bias)
          y = this.emit(
            'Add',
            [y, b.constant(`${name}/bias`, f32([bias.length], bias))],
            {},
            act !== 'linear' ? b.fresh(`${name}/biased`) : name
          );
        if (act !== 'linear') this.activation(y, act, 1, name);
        return out([kernel.shape[1]]);
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const [h, w, c] = image();
        const k = pair(cfg.poolSize, 2),
          s = pair(cfg.strides ?? cfg.poolSize, 2);
        const attrs = {
          kernel_shape: k,
          strides: s,
          pads: windowPads([h, w], k, s, [1, 1]),
          ...(cls === 'AveragePooling2D' ? { count_include_pad: 0 } : {})
        };
        b.nodes.push({
          op: cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool',
          name: b.fresh(`${name}/pool`),
          inputs: [x.name],
          outputs: [name],
          attrs
        });
        return out([outSide(h, k[0], s[0], 1), outSide(w, k[1], s[1], 1), c]);
      }
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        const [h, w, c] = image();
        if (cfg.keepDims) this.fail('keepDims is not supported');
        const pooled =
          cls === 'GlobalAveragePooling2D'
            ? b.op('GlobalAveragePool', [x.name], {}, `${name}/pool`)
            : b.op('MaxPool', [x.name], { kernel_shape: [h, w] }, `${name}/pool`);
        b.nodes.push({
          op: 'Flatten',
          name: b.fresh(`${name}/flatten`),
          inputs: [pooled],
          outputs: [name],
          attrs: { axis: 1 }
        });
        return out([c]);
      }
      case 'Flatten': {
        const size = x.tfShape.reduce((a, v) => a * v, 1);
        const nhwc = rank === 3 ? b.op('Transpose', [x.name], { perm: [0, 2, 3, 1] }, `${name}/nhwc`) : x.name;
        b.nodes.push({
          op: 'Flatten',
          name: b.fresh(`${name}/flatten`),
          inputs: [nhwc],
          outputs: [name],
          attrs: { axis: 1 }
        });
        return out([size]);
      }
      case 'Reshape': {
        const size = x.tfShape.reduce((a, v) => a * v, 1);
        const target = (cfg.targetShape as number[]).slice();
        const known = target.filter((v) => v !== -1).reduce((a, v) => a * v, 1);
        const shape = target.map((v) => (v === -1 ? size / known : v));
        if (shape.length !== 1 && shape.length !== 3)
          this.fail(`a per-sample target of rank ${shape.length} is not supported (1 or 3)`);
        const nhwc = rank === 3 ? b.op('Transpose', [x.name], { perm: [0, 2, 3, 1] }, `${name}/nhwc`) : x.name;
        const flatShape = shape.length === 3 ? shape : [shape[0]];
        const reshaped = this.emit(
          'Reshape',
          [nhwc, b.constant(`${name}/shape`, i64([-1, ...flatShape]))],
          {},
          shape.length === 3 ? b.fresh(`${name}/reshaped`) : name
        );
        if (shape.length === 3) this.emit('Transpose', [reshaped], { perm: [0, 3, 1, 2] }, name);
        return out(shape);
      }
      case 'BatchNormalization': {
        const axis = Number(Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1));
        if (axis !== -1 && axis !== rank) this.fail(`normalises axis ${axis}; only the channel axis (-1) is supported`);
        const channels = x.tfShape[rank - 1];
        const eps = Number(cfg.epsilon ?? 1e-3);
        const gamma = this.maybeWeight('gamma') ?? new Float32Array(channels).fill(1);
        const beta = this.maybeWeight('beta') ?? new Float32Array(channels);
        const mean = this.weight('moving_mean').data,
          variance = this.weight('moving_variance').data;
        const scale = Array.from(gamma, (g, i) => g / Math.sqrt(variance[i] + eps));
        const shift = Array.from(beta, (v, i) => v - mean[i] * scale[i]);
        const scaled = b.op('Mul', [x.name, this.channelConst(`${name}/scale`, scale, rank)], {}, `${name}/scaled`);
        b.nodes.push({
          op: 'Add',
          name: b.fresh(`${name}/shift`),
          inputs: [scaled, this.channelConst(`${name}/shift`, shift, rank)],
          outputs: [name],
          attrs: {}
        });
        return out(x.tfShape);
      }
      case 'Activation':
        this.activation(x.name, String(cfg.activation), rank, name);
        return out(x.tfShape);
      case 'ReLU':
        if (cfg.maxValue !== undefined && cfg.maxValue !== null) {
          b.nodes.push({
            op: 'Clip',
            name: b.fresh(`${name}/clip`),
            inputs: [x.name, b.scalar(0, `${name}/min`), b.scalar(Number(cfg.maxValue), `${name}/max`)],
            outputs: [name],
            attrs: {}
          });
        } else this.activation(x.name, 'relu', rank, name);
        return out(x.tfShape);
      case 'LeakyReLU':
        b.nodes.push({
          op: 'LeakyRelu',
          name: b.fresh(`${name}/leaky`),
          inputs: [x.name],
          outputs: [name],
          attrs: { alpha: { f: Number(cfg.alpha ?? 0.3) } }
        });
        return out(x.tfShape);
      case 'ELU':
        b.nodes.push({
          op: 'Elu',
          name: b.fresh(`${name}/elu`),
          inputs: [x.name],
          outputs: [name],
          attrs: { alpha: { f: Number(cfg.alpha ?? 1) } }
        });
        return out(x.tfShape);
      case 'Softmax':
        {
          const axis = Number(Array.isArray(cfg.axis) ? cfg.axis[0] : (cfg.axis ?? -1));
          if ((axis + rank + 1) % (rank + 1) !== rank)
            this.fail(`softmax over axis ${axis}: only the last axis is supported`);
        }
        this.activation(x.name, 'softmax', rank, name);
        return out(x.tfShape);
      case 'Add':
      case 'Multiply': {
        const op = cls === 'Add' ? 'Add' : 'Mul';
        // Broadcasting of equal ranks (a squeeze-excitation's [1, 1, C] onto [H, W, C]) means the same in NCHW.
        const shape = x.tfShape.map((_, i) => Math.max(...inputs.map((v) => v.tfShape[i] ?? 0)));
        if (inputs.some((v) => v.tfShape.length !== rank || v.tfShape.some((d, i) => d !== 1 && d !== shape[i])))
          this.fail(
            `inputs of shapes ${inputs.map((v) => `[${v.tfShape.join(', ')}]`).join(', ')} do not broadcast axis by axis`
          );
        let acc = x.name;
        inputs
          .slice(1)
          .forEach(
            (v, i) =>
              (acc = this.emit(op, [acc, v.name], {}, i === inputs.length - 2 ? name : b.fresh(`${name}/partial`)))
          );
        return out(shape);
      }
      case 'Concatenate': {
        const axis = Number(cfg.axis ?? -1);
        if (axis !== -1 && axis !== rank)
          this.fail(`concatenates axis ${axis}; only the channel axis (-1) is supported`);
        b.nodes.push({
          op: 'Concat',
          name: b.fresh(`${name}/concat`),
          inputs: inputs.map((v) => v.name),
          outputs: [name],
          attrs: { axis: 1 }
        });
        return out([...x.tfShape.slice(0, -1), inputs.reduce((n, v) => n + v.tfShape[rank - 1], 0)]);
      }
      case 'ZeroPadding2D': {
        const [h, w, c] = image();
        const p = cfg.padding as number[][];
        const [[t, bo], [l, r]] = p;
        b.nodes.push({
          op: 'Pad',
          name: b.fresh(`${name}/pad`),
          inputs: [x.name, b.constant(`${name}/pads`, i64([0, 0, t, l, 0, 0, bo, r]))],
          outputs: [name],
          attrs: { mode: 'constant' }
        });
        return out([h + t + bo, w + l + r, c]);
      }
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
        b.nodes.push({
          op: 'Identity',
          name: b.fresh(`${name}/identity`),
          inputs: [x.name],
          outputs: [name],
          attrs: {}
        });
        return out(x.tfShape);
      default:
        this.fail('this layer type has no ONNX translation (see README: the ONNX engine)');
    }
  }
}

/** Every weight of the model, read asynchronously (works on every backend, webgpu in Node included). */
export async function readWeightValues(model: tf.LayersModel): Promise<WeightValues> {
  const vars = model.weights;
  const data = await Promise.all(vars.map(async (v) => (await v.read().data()) as Float32Array));
  return new Map(vars.map((v, i) => [v, data[i]]));
}

/** modelFromTfjs with the weights read asynchronously first: the form to use when the backend may be a GPU one. */
export async function modelFromTfjsAsync(model: tf.LayersModel, source: string): Promise<ModelIr> {
  return modelFromTfjs(model, source, await readWeightValues(model));
}

/**
 * The IR of a TF.js layers model; `source` names it in messages (its folder). Weights come from `values` when
 * given, else by synchronous readback (cpu and wasm only).
 */
export function modelFromTfjs(model: tf.LayersModel, source: string, values: WeightValues | null = null): ModelIr {
  if (model.inputs.length !== 1)
    throw new CompileError(`${source}: the model has ${model.inputs.length} inputs; one image input is needed`);
  const shape = model.inputs[0].shape;
  if (shape.length !== 4 || shape.slice(1).some((d) => d === null))
    throw new CompileError(
      `${source}: the model's input shape is [${shape.map((d) => d ?? 'null').join(', ')}]; expected [null, H, W, C]`
    );
  const [h, w, c] = shape.slice(1) as number[];
  const reader = new Reader(values);
  const inputName = model.inputs[0].sourceLayer.name;
  reader.b.reserve([inputName, ...model.layers.map((l) => l.name)]);
  reader.values.set(inputName, { name: inputName, tfShape: [h, w, c] });
  const tapNames: string[] = [];
  withSource(source, () => {
    for (const layer of model.layers) {
      if (layer.getClassName() === 'InputLayer') continue;
      if (layer.inboundNodes.length !== 1)
        throw new CompileError(
          `layer '${layer.name}': a layer used ${layer.inboundNodes.length} times (shared) is not supported`
        );
      const ins = layer.inboundNodes[0].inboundLayers.map((l) => {
        const v = reader.values.get(l.name);
        if (!v) throw new CompileError(`layer '${layer.name}': its input '${l.name}' was not translated`);
        return v;
      });
      reader.values.set(layer.name, reader.translate(layer, ins));
      tapNames.push(layer.name);
    }
  });
  return {
    source,
    input: { name: inputName, shape: [c, h, w] },
    nodes: reader.b.nodes,
    initializers: reader.b.initializers,
    tapNames,
    tapValues: new Map(tapNames.map((n) => [n, n]))
  };
}
