/*
 * Extra and faster gradient kernels for the wasm backend (tfjs-backend-wasm 4.22).
 * - Conv2DBackpropFilter is missing there, so conv layers cannot train on wasm without it. We build it
 *   from the backend's own XNNPACK Conv2D: the filter gradient is a correlation of the padded input
 *   with the output gradient, i.e. a conv2d with the batch and channel axes swapped and dilation = stride.
 * - Conv2DBackpropInput (stride 1) becomes an XNNPACK convolution; other strides use the stock kernel.
 * - MaxPoolGrad becomes a tight loop over wasm memory (the stock one is slower, and wrong for padded
 *   pools on batches larger than one).
 * Kernels here call other kernels' functions directly on TensorInfos (never tf ops: a kernel runs
 * inside the engine's bookkeeping) and dispose every intermediate they make.
 * The issue that asked for these suggested (x == upsampled y) * upsampled dy for MaxPoolGrad; that
 * sends the gradient to every tied maximum (flat regions, ReLU zeros), unlike every stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelFunc, TensorInfo, NamedAttrMap, KernelBackend } from '@tensorflow/tfjs';

const { backend_util } = tf;
type Shape4 = [number, number, number, number];
type ExplicitPadding = [[number, number], [number, number], [number, number], [number, number]];
type Pad = 'valid' | 'same' | number | ExplicitPadding;

interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: KernelBackend;
  attrs: NamedAttrMap;
}

/** Calls a registered wasm kernel by name. */
function call(
  name: string,
  backend: KernelBackend,
  inputs: Record<string, TensorInfo>,
  attrs: Record<string, unknown> = {}
): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel ${name} is not registered`);
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as NamedAttrMap }) as TensorInfo;
}

function free(backend: KernelBackend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** dW for a 2-D convolution, NHWC, dilation 1, any stride and padding. */
export function conv2DBackpropFilterWasm(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { x, dy } = inputs;
  const strides = attrs.strides as [number, number] | number;
  const pad = attrs.pad as Pad;
  const dataFormat = (attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  const dimRoundingMode = attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined;
  const filterShape = attrs.filterShape as Shape4;
  if (dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter on wasm supports NHWC only, got ${dataFormat}`);
  const info = backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast'
  );
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, padInfo } = info;

  // x: [N, H, W, Cin] -> [Cin, H, W, N]; dy: [N, oh, ow, Cout] -> [oh, ow, N, Cout].
  const xT = call('Transpose', backend, { x }, { perm: [3, 1, 2, 0] });
  const dyT = call('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] });
  const explicit: ExplicitPadding = [
    [0, 0],
    [padInfo.top, padInfo.bottom],
    [padInfo.left, padInfo.right],
    [0, 0]
  ];
  const full = call(
    'Conv2D',
    backend,
    { x: xT, filter: dyT },
    { strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [sh, sw] }
  );
  free(backend, xT, dyT);
  // full: [Cin, H', W', Cout] with H' >= kh, W' >= kw; keep the first kh x kw.
  let cut = full;
  if (full.shape[1] !== kh || full.shape[2] !== kw) {
    cut = call('Slice', backend, { x: full }, { begin: [0, 0, 0, 0], size: [full.shape[0], kh, kw, full.shape[3]] });
    free(backend, full);
  }
  const dW = call('Transpose', backend, { x: cut }, { perm: [1, 2, 0, 3] });
  free(backend, cut);
  return dW;
}

let stockBackpropInput: KernelFunc | null = null;
let stockMaxPoolGrad: KernelFunc | null = null;

/** dx for a 2-D convolution; stride 1 as a VALID conv of the padded dy with the flipped, channel-swapped filter. */
export function conv2DBackpropInputWasm(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const strides = attrs.strides as [number, number] | number;
  const pad = attrs.pad as Pad;
  const dataFormat = (attrs.dataFormat as 'NHWC' | 'NCHW' | undefined) ?? 'NHWC';
  const dimRoundingMode = attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined;
  const inputShape = attrs.inputShape as Shape4;
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    dataFormat === 'NHWC' ? 'channelsLast' : 'channelsFirst'
  );
  const { filterHeight: kh, filterWidth: kw, padInfo } = info;
  const top = kh - 1 - padInfo.top,
    bottom = kh - 1 - padInfo.bottom;
  const left = kw - 1 - padInfo.left,
    right = kw - 1 - padInfo.right;
  const handled =
    dataFormat === 'NHWC' &&
    info.strideHeight === 1 &&
    info.strideWidth === 1 &&
    top >= 0 &&
    bottom >= 0 &&
    left >= 0 &&
    right >= 0;
  if (!handled) return stockBackpropInput!(args as never) as TensorInfo;

  const flipped = call('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const swapped = call('Transpose', backend, { x: flipped }, { perm: [0, 1, 3, 2] });
  free(backend, flipped);
  const explicit: ExplicitPadding = [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0]
  ];
  const dx = call(
    'Conv2D',
    backend,
    { x: dy, filter: swapped },
    { strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [1, 1] }
  );
  free(backend, swapped);
  return dx;
}

/** The parts of tfjs-backend-wasm's BackendWasm that its own kernels use to reach wasm memory. */
interface WasmHeapBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPF32: Float32Array };
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
}

/**
 * dx of a 2-D max pool, written straight into wasm memory. Each output's gradient goes to the FIRST
 * maximum of its window in row-major order, padding excluded, exactly as the cpu backend does (so
 * ties from flat image regions or ReLU zeros get the cpu result). Windows that tile the input (pool =
 * stride, no padding) take a branch-light path that writes every dx element once. The stock wasm
 * kernel is slower and gives wrong gradients for padded pools on batches larger than one
 * (measured against cpu with tfjs-backend-wasm 4.22).
 */
export function maxPoolGradWasm(args: KernelArgs): TensorInfo {
  const { inputs, attrs } = args;
  const backend = args.backend as unknown as WasmHeapBackend;
  const { dy, input } = inputs;
  const info = backend_util.computePool2DInfo(
    input.shape as Shape4,
    attrs.filterSize as [number, number] | number,
    attrs.strides as [number, number] | number,
    1,
    attrs.pad as Pad,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined
  );
  const [n, h, w, c] = input.shape;
  const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top,
    left = info.padInfo.left;
  const out = backend.makeOutput(input.shape, 'float32');
  // Read the heap after makeOutput: allocating may grow (and replace) wasm memory.
  const heap = backend.wasm.HEAPF32;
  const xo = backend.dataIdMap.get(input.dataId)!.memoryOffset / 4;
  const go = backend.dataIdMap.get(dy.dataId)!.memoryOffset / 4;
  const dxo = backend.dataIdMap.get(out.dataId)!.memoryOffset / 4;
  const rowStride = w * c;
  if (fh === 2 && fw === 2 && sh === 2 && sw === 2 && oh * 2 === h && ow * 2 === w && top === 0 && left === 0) {
    let gi = go;
    for (let b = 0; b < n; b++) {
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          const p00 = ((b * h + 2 * oy) * w + 2 * ox) * c;
          const p01 = p00 + c,
            p10 = p00 + rowStride,
            p11 = p10 + c;
          for (let ch = 0; ch < c; ch++, gi++) {
            const v00 = heap[xo + p00 + ch],
              v01 = heap[xo + p01 + ch],
              v10 = heap[xo + p10 + ch],
              v11 = heap[xo + p11 + ch];
            let k = 0;
            let best = v00;
            if (v01 > best) {
              best = v01;
              k = 1;
            }
            if (v10 > best) {
              best = v10;
              k = 2;
            }
            if (v11 > best) k = 3;
            const g = heap[gi];
            heap[dxo + p00 + ch] = k === 0 ? g : 0;
            heap[dxo + p01 + ch] = k === 1 ? g : 0;
            heap[dxo + p10 + ch] = k === 2 ? g : 0;
            heap[dxo + p11 + ch] = k === 3 ? g : 0;
          }
        }
      }
    }
    return out;
  }
  heap.fill(0, dxo, dxo + n * h * w * c);
  let gi = go;
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - top;
      const yStart = Math.max(0, y0),
        yEnd = Math.min(h, y0 + fh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - left;
        const xStart = Math.max(0, x0),
          xEnd = Math.min(w, x0 + fw);
        for (let ch = 0; ch < c; ch++, gi++) {
          let best = -Infinity;
          let where = -1;
          for (let y = yStart; y < yEnd; y++) {
            for (let x = xStart; x < xEnd; x++) {
              const k = ((b * h + y) * w + x) * c + ch;
              const v = heap[xo + k];
              if (v > best || where < 0) {
                best = v;
                where = k;
              }
            }
          }
          if (where >= 0) heap[dxo + where] += heap[gi];
        }
      }
    }
  }
  return out;
}

let registered = false;
let fastKernels = true;

/**
 * Registers our kernels on the wasm backend (idempotent). With `fast = false` only the missing
 * Conv2DBackpropFilter is added and the stock Conv2DBackpropInput and MaxPoolGrad stay: the bench
 * uses that to measure what our replacements gain.
 */
export function registerWasmKernels(fast = true): void {
  if (!stockBackpropInput) {
    stockBackpropInput = tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc ?? null;
    stockMaxPoolGrad = tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc ?? null;
    if (!stockBackpropInput || !stockMaxPoolGrad)
      throw new Error(
        'the wasm backend lacks its stock gradient kernels; is @tensorflow/tfjs-backend-wasm 4.22 installed?'
      );
  }
  if (registered && fast === fastKernels) return;
  if (!tf.getKernel('Conv2DBackpropFilter', 'wasm')) {
    tf.registerKernel({
      kernelName: 'Conv2DBackpropFilter',
      backendName: 'wasm',
      kernelFunc: conv2DBackpropFilterWasm as unknown as KernelFunc
    });
  }
  tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel({
    kernelName: 'Conv2DBackpropInput',
    backendName: 'wasm',
    kernelFunc: fast ? (conv2DBackpropInputWasm as unknown as KernelFunc) : stockBackpropInput
  });
  tf.registerKernel({
    kernelName: 'MaxPoolGrad',
    backendName: 'wasm',
    kernelFunc: fast ? (maxPoolGradWasm as unknown as KernelFunc) : stockMaxPoolGrad!
  });
  registered = true;
  fastKernels = fast;
}

/** Whether our faster Conv2DBackpropInput and MaxPoolGrad are the active ones. */
export function wasmFastKernelsActive(): boolean {
  return registered && fastKernels;
}
