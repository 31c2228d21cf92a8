/*
 * The writing side of the TF.js-to-IR translation (from-tfjs.ts): the graph being built, the values made
 * so far (each with its per-sample shape in TF order), and what every layer's translation needs: its
 * weights (read ahead or read back), nodes named after the layer, channel constants, fused activations
 * as nodes of their own, and a refusal naming the layer. Knows no layer type beyond the activations.
 */
import type * as tf from '@tensorflow/tfjs';
import { GraphBuilder, f32 } from './ir';
import { CompileError } from './rules/rule';

/** A layer's configuration as getConfig() gives it. */
export type Config = Record<string, unknown>;
/** Per value: its per-sample shape in TF order and whether it is an image (NCHW in the IR). */
export interface Value {
  name: string;
  tfShape: number[];
}

/** Weight values read ahead, by variable (GPU backends have no synchronous readback in Node). */
export type WeightValues = ReadonlyMap<tf.LayerVariable, Float32Array>;

/** One layer being translated: the layer, its configuration and its (already translated) inputs. */
export interface LayerCall {
  layer: tf.layers.Layer;
  cfg: Config;
  name: string;
  /** The layer's class name (Conv2D, Dense, ...). */
  cls: string;
  inputs: Value[];
  /** The first input, and the rank of its per-sample shape. */
  x: Value;
  rank: number;
}

export class Reader {
  readonly b = new GraphBuilder();
  readonly values = new Map<string, Value>();
  private layer!: tf.layers.Layer;

  /** Starts a layer: its nodes are named after it and its refusals name it. */
  begin(layer: tf.layers.Layer, inputs: Value[]): LayerCall {
    this.layer = layer;
    const x = inputs[0];
    return {
      layer,
      cfg: layer.getConfig() as Config,
      name: layer.name,
      cls: layer.getClassName(),
      inputs,
      x,
      rank: x?.tfShape.length
    };
  }

  /** The per-sample [h, w, c] of an image input, refused otherwise. */
  image({ x, rank, cfg }: LayerCall): [number, number, number] {
    if (rank !== 3) this.fail(`expects an image input, got a per-sample shape [${x.tfShape.join(', ')}]`);
    if (cfg.dataFormat !== undefined && cfg.dataFormat !== 'channelsLast')
      this.fail(`dataFormat ${String(cfg.dataFormat)} is not supported`);
    return x.tfShape as [number, number, number];
  }

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

  /** Adds the node that writes this layer's output value (named after the layer); the node is `<layer>/<hint>`. */
  output(hint: string, op: string, inputs: string[], attrs: Record<string, unknown> = {}): string {
    this.b.nodes.push({
      op,
      name: this.b.fresh(`${this.layer.name}/${hint}`),
      inputs,
      outputs: [this.layer.name],
      attrs: attrs as never
    });
    return this.layer.name;
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
}
