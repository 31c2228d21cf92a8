/*
 * The TF.js layers that slide a window over an image (Conv2D, DepthwiseConv2D, the pools and the global
 * pools) in the compiler's IR: kernels transposed from TF's [kh, kw, in, out] to ONNX's [out, in, kh, kw],
 * TF's 'same' padding made explicit (and asymmetric), output sides as TF computes them.
 */
import { f32, type IrTensor } from './ir';
import type { LayerCall, Reader, Value } from './tfjs-reader';

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

/**
 * A TF kernel [kh, kw, cin, n] in ONNX's layout: a convolution's [cout = n, cin, kh, kw] (TF's element
 * (y, x, i, o) at plane o * cin + i), a depthwise one's [cin * mult, 1, kh, kw] with mult = n (output
 * channel i * mult + m, TF's element (y, x, i, m)).
 */
function onnxKernel(k: Float32Array, [kh, kw, cin, n]: number[], depthwise: boolean): IrTensor {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < cin; i++)
        for (let j = 0; j < n; j++) {
          const plane = depthwise ? i * n + j : j * cin + i;
          out[(plane * kh + y) * kw + x] = k[((y * kw + x) * cin + i) * n + j];
        }
  return f32(depthwise ? [cin * n, 1, kh, kw] : [n, cin, kh, kw], out);
}

/** The explicit [top, left, bottom, right] pads of a window of kernel k, strides s and dilations d on an [h, w] image. */
function windowPads(
  { cfg }: LayerCall,
  [h, w]: [number, number],
  { k, s, d }: { k: [number, number]; s: [number, number]; d: [number, number] }
): number[] {
  const padding = String(cfg.padding ?? 'valid');
  const [t, bo] = tfPads(h, { kernel: k[0], stride: s[0], dilation: d[0] }, padding);
  const [l, r] = tfPads(w, { kernel: k[1], stride: s[1], dilation: d[1] }, padding);
  return [t, l, bo, r];
}

/** The output side of a window of kernel k, stride s and dilation d over n pixels, as TF computes it. */
function outSide({ cfg }: LayerCall, n: number, { k, s, d }: { k: number; s: number; d: number }): number {
  return cfg.padding === 'same' ? Math.ceil(n / s) : Math.floor((n - ((k - 1) * d + 1)) / s) + 1;
}

/** Conv2D and DepthwiseConv2D: a Conv node (grouped per channel for the depthwise one) and its fused activation. */
export function convLayer(r: Reader, call: LayerCall): Value {
  const { cfg, name, cls, x } = call;
  const b = r.b;
  const [h, w, c] = r.image(call);
  const k = pair(cfg.kernelSize, 1),
    s = pair(cfg.strides, 1),
    d = pair(cfg.dilationRate, 1);
  if ((s[0] > 1 || s[1] > 1) && (d[0] > 1 || d[1] > 1))
    r.fail('strides and dilations together are not supported by TF');
  const depthwise = cls === 'DepthwiseConv2D';
  const kernel = r.weight(depthwise ? 'depthwise_kernel' : 'kernel');
  const wt = onnxKernel(kernel.data, kernel.shape, depthwise);
  const bias = r.maybeWeight('bias');
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
      pads: windowPads(call, [h, w], { k, s, d }),
      group: depthwise ? c : 1,
      kernel_shape: k
    }
  });
  r.activation(convOut, act, 3, name);
  return {
    name,
    tfShape: [
      outSide(call, h, { k: k[0], s: s[0], d: d[0] }),
      outSide(call, w, { k: k[1], s: s[1], d: d[1] }),
      wt.dims[0]
    ]
  };
}

/** MaxPooling2D and AveragePooling2D (padding excluded from the average, as TF). */
export function poolLayer(r: Reader, call: LayerCall): Value {
  const { cfg, name, cls, x } = call;
  const [h, w, c] = r.image(call);
  const k = pair(cfg.poolSize, 2),
    s = pair(cfg.strides ?? cfg.poolSize, 2);
  const attrs = {
    kernel_shape: k,
    strides: s,
    pads: windowPads(call, [h, w], { k, s, d: [1, 1] }),
    ...(cls === 'AveragePooling2D' ? { count_include_pad: 0 } : {})
  };
  r.output('pool', cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x.name], attrs);
  return {
    name,
    tfShape: [outSide(call, h, { k: k[0], s: s[0], d: 1 }), outSide(call, w, { k: k[1], s: s[1], d: 1 }), c]
  };
}

/** GlobalAveragePooling2D and GlobalMaxPooling2D, flattened to a vector of channels. */
export function globalPoolLayer(r: Reader, call: LayerCall): Value {
  const { cfg, name, cls, x } = call;
  const b = r.b;
  const [h, w, c] = r.image(call);
  if (cfg.keepDims) r.fail('keepDims is not supported');
  const pooled =
    cls === 'GlobalAveragePooling2D'
      ? b.op('GlobalAveragePool', [x.name], {}, `${name}/pool`)
      : b.op('MaxPool', [x.name], { kernel_shape: [h, w] }, `${name}/pool`);
  r.output('flatten', 'Flatten', [pooled], { axis: 1 });
  return { name, tfShape: [c] };
}
