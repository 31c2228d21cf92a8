/*
 * The three network families of the paper at any input size, with the paper's named taps:
 * `conv` (the last conv layer, before its ReLU), `fc1` and `fc2` (hidden FC layers, before their
 * ReLU) and `fc3` (the logits). Every ReLU is a layer of its own so that each tap is the
 * pre-activation feature that the student regresses and that phi = ReLU(f_L) explains.
 * Only ops whose gradients exist on every backend (no depthwise conv, no batch norm).
 * Initialisation is He-normal, seeded per layer: the same seed gives the same weights.
 */
import * as tf from '@tensorflow/tfjs';
import type { Architecture } from '../../common/config';
import { hashSeed } from '../util/random';

type Sym = tf.SymbolicTensor;

/** Named presets: small ones that train on a laptop CPU, paper-sized ones for a GPU. */
export const ARCHITECTURE_PRESETS: Record<string, Architecture> = {
  'vgg-small': {
    family: 'vgg',
    inputSize: 32,
    channels: [16, 32, 64],
    convsPerStage: 1,
    fcUnits: [128, 64],
    dropout: 0
  },
  'alexnet-small': {
    family: 'alexnet',
    inputSize: 32,
    channels: [32, 64, 96],
    convsPerStage: 1,
    fcUnits: [128, 64],
    dropout: 0
  },
  'resnet-small': {
    family: 'resnet',
    inputSize: 32,
    channels: [16, 32, 64],
    convsPerStage: 1,
    fcUnits: [128, 64],
    dropout: 0
  },
  vgg11: {
    family: 'vgg',
    inputSize: 224,
    channels: [64, 128, 256, 512, 512],
    convsPerStage: 2,
    fcUnits: [4096, 4096],
    dropout: 0.5
  },
  vgg16: {
    family: 'vgg',
    inputSize: 224,
    channels: [64, 128, 256, 512, 512],
    convsPerStage: 3,
    fcUnits: [4096, 4096],
    dropout: 0.5
  },
  alexnet: {
    family: 'alexnet',
    inputSize: 224,
    channels: [64, 192, 384],
    convsPerStage: 1,
    fcUnits: [4096, 4096],
    dropout: 0.5
  },
  resnet18: {
    family: 'resnet',
    inputSize: 224,
    channels: [64, 128, 256, 512],
    convsPerStage: 2,
    fcUnits: [512, 512],
    dropout: 0
  }
};

/**
 * The weight matrix of tap L, whose path length is measured: the kernel of the layer named L, or,
 * for a layer without weights (the residual sum of a ResNet), the kernel of the last of its inputs
 * that has one.
 */
export function tapKernel(model: tf.LayersModel, tap: string): tf.LayerVariable {
  const kernelOf = (layer: tf.layers.Layer): tf.LayerVariable | undefined =>
    layer.weights.find((w) => /\/kernel$/.test(w.originalName));
  const layer = model.getLayer(tap);
  const own = kernelOf(layer);
  if (own) return own;
  const inputs = layer.inboundNodes.flatMap((n) => n.inboundLayers);
  for (let i = inputs.length - 1; i >= 0; i--) {
    const k = kernelOf(inputs[i]);
    if (k) return k;
  }
  throw new Error(`layer '${tap}' has no kernel weights, nor has any layer feeding it`);
}

/**
 * Builds a network. `seed` fixes every initialiser; two calls with the same architecture,
 * classes and seed give identical weights (the student and the baseline share their start).
 */
export function buildNetwork(arch: Architecture, numClasses: number, seed: number, name = 'net'): tf.LayersModel {
  if (arch.family === 'alexnet' && arch.inputSize < 16)
    throw new Error(`architecture.inputSize: alexnet needs at least 16 px, got ${arch.inputSize}`);
  let layerIndex = 0;
  const init = (): ReturnType<typeof tf.initializers.heNormal> =>
    tf.initializers.heNormal({ seed: hashSeed(seed, layerIndex++) % 2147483647 });
  const conv = (
    x: Sym,
    layerName: string,
    { filters, kernelSize, strides = 1 }: { filters: number; kernelSize: number; strides?: number }
  ): Sym =>
    tf.layers
      .conv2d({
        filters,
        kernelSize,
        strides,
        padding: 'same',
        kernelInitializer: init(),
        biasInitializer: 'zeros',
        name: layerName
      })
      .apply(x) as Sym;
  const relu = (x: Sym, layerName: string): Sym =>
    tf.layers.activation({ activation: 'relu', name: layerName }).apply(x) as Sym;
  const pool = (x: Sym, layerName: string, size = 2, strides = 2): Sym => {
    const side = x.shape[1]!;
    if (side < size) return x; // too small to pool further
    return tf.layers
      .maxPooling2d({ poolSize: size, strides, padding: size === strides ? 'valid' : 'same', name: layerName })
      .apply(x) as Sym;
  };

  const input = tf.input({ shape: [arch.inputSize, arch.inputSize, 3], name: 'input' });
  let x: Sym = input;
  const stages = arch.channels.length;
  const convCount =
    arch.family === 'alexnet' ? stages : arch.family === 'resnet' ? stages : stages * arch.convsPerStage;
  let convIndex = 0;
  const convName = (): string => (++convIndex === convCount ? 'conv' : `conv${convIndex}`);

  if (arch.family === 'vgg') {
    for (let s = 0; s < stages; s++) {
      for (let c = 0; c < arch.convsPerStage; c++) {
        const n = convName();
        x = relu(conv(x, n, { filters: arch.channels[s], kernelSize: 3 }), `${n}_relu`);
      }
      x = pool(x, `pool${s + 1}`);
    }
  } else if (arch.family === 'alexnet') {
    // A large first kernel with stride (AlexNet's 11x11/4 at 224 px), then 3x3 convs; overlapping 3x3/2 pools.
    const bigInput = arch.inputSize >= 128;
    for (let s = 0; s < stages; s++) {
      const n = convName();
      const k = s === 0 ? (bigInput ? 11 : 5) : 3;
      x = relu(
        conv(x, n, { filters: arch.channels[s], kernelSize: k, strides: s === 0 && bigInput ? 4 : 1 }),
        `${n}_relu`
      );
      x = pool(x, `pool${s + 1}`, 3, 2);
    }
  } else {
    // ResNet-like: a stem conv, then per stage `convsPerStage` residual blocks (conv-relu-conv + skip,
    // a 1x1 projection where the width changes), a max pool between stages, global average pooling.
    x = relu(conv(x, 'stem', { filters: arch.channels[0], kernelSize: 3 }), 'stem_relu');
    let width = arch.channels[0];
    for (let s = 0; s < stages; s++) {
      for (let b = 0; b < arch.convsPerStage; b++) {
        const last = s === stages - 1 && b === arch.convsPerStage - 1;
        const prefix = `s${s + 1}b${b + 1}`;
        const skip =
          width === arch.channels[s] ? x : conv(x, `${prefix}_proj`, { filters: arch.channels[s], kernelSize: 1 });
        const h = relu(conv(x, `${prefix}_conv1`, { filters: arch.channels[s], kernelSize: 3 }), `${prefix}_relu1`);
        const h2 = conv(h, `${prefix}_conv2`, { filters: arch.channels[s], kernelSize: 3 });
        const sum = tf.layers.add({ name: last ? 'conv' : `${prefix}_add` }).apply([skip, h2]) as Sym;
        x = relu(sum, last ? 'conv_relu' : `${prefix}_relu2`);
        width = arch.channels[s];
      }
      if (s < stages - 1) x = pool(x, `pool${s + 1}`);
    }
    x = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as Sym;
  }

  if (arch.family !== 'resnet') x = tf.layers.flatten({ name: 'flatten' }).apply(x) as Sym;
  const dense = (y: Sym, units: number, layerName: string): Sym =>
    tf.layers.dense({ units, kernelInitializer: init(), biasInitializer: 'zeros', name: layerName }).apply(y) as Sym;
  const dropout = (y: Sym, layerName: string): Sym =>
    arch.dropout > 0 ? (tf.layers.dropout({ rate: arch.dropout, name: layerName }).apply(y) as Sym) : y;
  x = dropout(relu(dense(x, arch.fcUnits[0], 'fc1'), 'fc1_relu'), 'fc1_dropout');
  x = dropout(relu(dense(x, arch.fcUnits[1], 'fc2'), 'fc2_relu'), 'fc2_dropout');
  const logits = dense(x, numClasses, 'fc3');
  return tf.model({ inputs: input, outputs: logits, name });
}

/** Layers up to and including the tap (frozen in student stage 2), by name. */
export function layersUpTo(model: tf.LayersModel, tap: string): Set<string> {
  const names = model.layers.map((l) => l.name);
  const at = names.indexOf(tap);
  if (at < 0) throw new Error(`the model has no layer named '${tap}'; its layers are: ${names.join(', ')}`);
  return new Set(names.slice(0, at + 1));
}
