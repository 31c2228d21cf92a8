/*
 * `kd-lens quantify`: entropy maps (and concept counts, with masks) for images under a TF.js
 * layers model at one tap. The output JSON is a contract other tools script against.
 */
import * as tf from '@tensorflow/tfjs';
import { basename, join } from 'node:path';
import type { Command } from '../command';
import { parseTriple, UsageError, type FlagSpec } from '../args';
import { initBackendFor } from '../../engine/tf/device';
import { writeJsonAtomic, writeFileAtomic } from '../../engine/store/atomic';
import { quantifyImages, type QuantifyImage } from '../../engine/knowledge/sigma';
import { DEFAULT_QUANTIFY, type QuantifyOptions } from '../../engine/knowledge/options';
import { maskToGrid, MASK_RULES, type MaskRule } from '../../engine/knowledge/grid';
import { backgroundMeanEntropy, conceptCells, countConcepts } from '../../engine/knowledge/concepts';
import { readRgb, readMaskGrey, imageSize, unitRgb } from '../../engine/io/images';
import { hashSeed } from '../../engine/util/random';
import { normaliseInto } from '../../engine/training/data';
import { IMAGENET_NORMALIZATION } from '../../common/defaults';
import { progressBar } from '../progress';
import { parseDevice, threadsPerWorker } from '../../engine/onnx/runtime';
import { selectEngine } from '../../engine/onnx/select';
import { openQuantifyModel } from '../quantify-model';
import { QUANTIFY_ENGINES, type QuantifyEngine } from '../../common/config';

/** --engine: auto, onnx or tfjs. */
export function parseEngine(value: string): QuantifyEngine {
  if (!(QUANTIFY_ENGINES as readonly string[]).includes(value))
    throw new UsageError(`--engine: expected ${QUANTIFY_ENGINES.join(', ')}, got '${value}'`);
  return value as QuantifyEngine;
}

const flags: Record<string, FlagSpec> = {
  model: {
    type: 'string',
    value: 'DIR|FILE.onnx',
    help: 'TF.js layers-format model folder (model.json + weights), or an ONNX file (NCHW input)'
  },
  layer: {
    type: 'string',
    value: 'NAME',
    help: 'the tap L whose feature is explained: a layer name, or for ONNX any node or output name'
  },
  images: { type: 'list', value: 'FILE', help: 'PNG/JPEG images' },
  masks: { type: 'list', value: 'FILE', help: 'foreground masks, one per image (value > 0 = foreground)' },
  grid: { type: 'integer', value: 'G', default: DEFAULT_QUANTIFY.grid, help: 'cells per side' },
  samples: { type: 'integer', value: 'K', default: DEFAULT_QUANTIFY.samples, help: 'noise samples per step' },
  steps: { type: 'integer', value: 'N', default: DEFAULT_QUANTIFY.steps, help: 'SGD steps (calibrated mode)' },
  lr: { type: 'number', default: DEFAULT_QUANTIFY.lr, help: 'SGD learning rate on sigma' },
  lambda: { type: 'number', default: DEFAULT_QUANTIFY.lambda, help: 'entropy weight' },
  'target-entropy': {
    type: 'number',
    value: 'H',
    default: DEFAULT_QUANTIFY.targetEntropy,
    help: 'mean entropy of the calibrated map (nats)'
  },
  mode: { type: 'string', value: 'calibrated|converged', default: DEFAULT_QUANTIFY.mode, help: 'optimisation mode' },
  'no-relu': { type: 'boolean', help: 'use f_L itself instead of ReLU(f_L)' },
  mean: { type: 'string', value: 'r,g,b', help: 'input normalisation mean (default: from the model, else ImageNet)' },
  std: { type: 'string', value: 'r,g,b', help: 'input normalisation std (default: from the model, else ImageNet)' },
  threshold: { type: 'number', value: 'b', default: 0.2, help: 'concept threshold: H_bar - H_i > b' },
  'mask-rule': {
    type: 'string',
    value: 'top-left|majority|any',
    default: 'top-left',
    help: 'how a mask labels a cell'
  },
  seed: { type: 'integer', default: 0, help: 'noise seed' },
  batch: { type: 'integer', default: 8, help: 'images optimised together' },
  backend: {
    type: 'string',
    value: 'auto|webgpu|wasm|tensorflow|cpu',
    help: 'compute backend (default: best available; env KD_LENS_BACKEND)'
  },
  engine: {
    type: 'string',
    value: 'auto|onnx|tfjs',
    default: 'auto',
    help: 'quantification engine (auto: ONNX Runtime, else TF.js)'
  },
  device: {
    type: 'string',
    value: 'cpu|gpu|auto',
    help: 'device (default cpu): ONNX Runtime provider (gpu falls back to cpu with the reason) and, when given, the TF.js backend (gpu: webgpu or fail; auto: GPU, else CPU)'
  },
  out: { type: 'string', value: 'FILE.json', help: 'where to write the results' },
  'save-graph': {
    type: 'string',
    value: 'DIR',
    help: 'ONNX engine: also write the compiled graphs (features.onnx, step.onnx; open them in Netron)'
  },
  json: { type: 'boolean', help: 'also print the results to stdout' }
};

export const quantifyCommand: Command = {
  name: 'quantify',
  summary: 'entropy maps and concept counts of images under a model at one layer',
  usage:
    'kd-lens quantify --model DIR|FILE.onnx --layer NAME --images A.png [B.png ...] [--masks MA.png ...] --out FILE.json',
  flags,
  async run({ flags: f }) {
    const modelDir = f.model as string | undefined;
    const layer = f.layer as string | undefined;
    const images = (f.images as string[] | undefined) ?? [];
    const masks = f.masks as string[] | undefined;
    const out = f.out as string | undefined;
    if (!modelDir) throw new UsageError('--model DIR is required');
    if (!layer) throw new UsageError('--layer NAME is required');
    if (images.length === 0) throw new UsageError('--images needs at least one image');
    if (!out) throw new UsageError('--out FILE.json is required');
    if (masks && masks.length !== images.length)
      throw new UsageError(
        `--masks: got ${masks.length} masks for ${images.length} images (one per image, in the same order)`
      );
    const mode = f.mode as string;
    if (mode !== 'calibrated' && mode !== 'converged')
      throw new UsageError(`--mode: expected calibrated or converged, got '${mode}'`);
    const maskRule = f['mask-rule'] as MaskRule;
    if (!MASK_RULES.includes(maskRule))
      throw new UsageError(`--mask-rule: expected ${MASK_RULES.join(' or ')}, got '${maskRule}'`);
    const batch = f.batch as number;
    if (batch < 1) throw new UsageError('--batch must be at least 1');
    const options: QuantifyOptions = {
      ...DEFAULT_QUANTIFY,
      grid: f.grid as number,
      samples: f.samples as number,
      steps: f.steps as number,
      lr: f.lr as number,
      lambda: f.lambda as number,
      targetEntropy: f['target-entropy'] as number,
      mode,
      relu: !f['no-relu']
    };

    const engineRequest = {
      engine: parseEngine(f.engine as string),
      device: parseDevice(f.device as string, '--device'),
      threads: threadsPerWorker(1)
    };
    // --device moves TF.js too; gpu is strict only where TF.js does the work (--engine tfjs), else GPU-then-CPU.
    const tfDevice =
      f.device === undefined
        ? null
        : engineRequest.device === 'gpu' && engineRequest.engine !== 'tfjs'
          ? 'auto'
          : engineRequest.device;
    const backend = await initBackendFor({ backend: f.backend as string | undefined, device: tfDevice });
    if (!f.json) process.stderr.write(`backend: ${backend.reason}\n`);
    const model = await openQuantifyModel(modelDir, layer);
    try {
      const [h, w, c] = model.size;
      const where = model.kind === 'onnx' ? modelDir : `${modelDir}/model.json`;
      if (c !== 3)
        throw new Error(`${where}: the model takes ${c} channels; kd-lens quantify feeds RGB images (3 channels)`);
      if (h < options.grid || w < options.grid)
        throw new UsageError(`--grid ${options.grid} does not fit the model's ${h}x${w} input`);
      if (model.kind === 'onnx' && engineRequest.engine === 'tfjs')
        throw new UsageError(`--engine tfjs cannot run an ONNX file (${modelDir}); use --engine onnx or auto`);
      const dims = {
        height: h,
        width: w,
        channels: c,
        grid: options.grid,
        samples: options.samples,
        relu: options.relu
      };
      const graphs = new Map<string, Uint8Array>();
      const onGraph = f['save-graph']
        ? (name: string, bytes: Uint8Array): void => void graphs.set(name, bytes)
        : undefined;
      const choice = await selectEngine(engineRequest, {
        ir: model.ir,
        tfModel: model.tfModel,
        tap: layer,
        dims,
        onGraph
      });
      if (f['save-graph'] && choice.kind !== 'onnx')
        throw new UsageError(`--save-graph needs the ONNX engine, but ${choice.note}`);
      if (!f.json) process.stderr.write(`engine: ${choice.note}\n`);
      const mean = f.mean ? parseTriple(f.mean as string, 'mean') : (model.mean ?? IMAGENET_NORMALIZATION.mean);
      const std = f.std ? parseTriple(f.std as string, 'std') : (model.std ?? IMAGENET_NORMALIZATION.std);
      if (std.some((s) => !(s > 0))) throw new UsageError(`--std: every value must be positive, got ${std.join(',')}`);

      // Read everything first: a bad file fails before any compute and before any output exists.
      const size = { width: w, height: h };
      const foreground: (Uint8Array | null)[] = [];
      const inputs: QuantifyImage[] = [];
      for (const [i, file] of images.entries()) {
        const rgb = await readRgb(file, size);
        // The paper's normalisation (ImageNet's) when neither the flags nor the model give one.
        const norm = normaliseInto(unitRgb(rgb), { mean, std }, new Float32Array(rgb.data.length));
        inputs.push({ input: tf.tensor3d(norm, [h, w, 3]), seed: hashSeed(f.seed as number, i), name: file });
        if (masks) {
          const [imgSize, maskSize] = [await imageSize(file), await imageSize(masks[i])];
          if (imgSize.width !== maskSize.width || imgSize.height !== maskSize.height) {
            throw new Error(
              `${masks[i]}: the mask is ${maskSize.width}x${maskSize.height} but its image ${file} is ${imgSize.width}x${imgSize.height}`
            );
          }
          const m = await readMaskGrey(masks[i], size);
          foreground.push(maskToGrid(m.data, { height: h, width: w }, options.grid, maskRule));
        } else foreground.push(null);
      }

      const bar = progressBar('quantify', { quiet: Boolean(f.json) });
      const results = await quantifyImages(choice.engine, inputs, options, {
        batchSize: batch,
        onProgress: (done, total, step, totalSteps) => {
          const frac = (done + (totalSteps > 0 ? (step / totalSteps) * Math.min(batch, total - done) : 0)) / total;
          bar.update(frac, `${done}/${total} images`);
        }
      });
      bar.done(`${results.length} images`);
      for (const im of inputs) im.input.dispose();

      const g = options.grid;
      const toRows = (a: Float32Array): number[][] =>
        Array.from({ length: g }, (_, r) => Array.from(a.subarray(r * g, (r + 1) * g)));
      let backgroundMean: number | null = null;
      let conceptSummary: Record<string, number> | undefined;
      if (masks) {
        const usable = results.map((r, i) => ({ r, fg: foreground[i]! })).filter(({ r }) => r.effective);
        const hBar = backgroundMeanEntropy(usable.map(({ r, fg }) => ({ entropy: r.entropy!, foreground: fg })));
        backgroundMean = Number.isFinite(hBar.value) ? hBar.value : null;
        conceptSummary = { imagesWithBackground: hBar.images, imagesWithoutBackground: hBar.noBackground };
      }
      const doc = {
        backend: backend.name,
        backendReason: backend.reason,
        engine: choice.kind,
        engineReason: choice.note,
        model: modelDir,
        layer,
        settings: { ...options, threshold: f.threshold as number, maskRule, seed: f.seed as number, mean, std },
        ...(masks ? { backgroundMean, ...conceptSummary } : {}),
        images: results.map((r, i) => {
          const base = {
            file: images[i],
            grid: g,
            entropy: r.entropy ? toRows(r.entropy) : null,
            sigmaF2: r.sigmaF2,
            meanEntropy: r.effective ? r.meanEntropy : null,
            steps: r.steps,
            selectedStep: r.selectedStep,
            lambda: r.lambda,
            effective: r.effective
          };
          if (!masks) return base;
          const fg = foreground[i]!;
          const concepts =
            r.effective && backgroundMean !== null
              ? countConcepts(conceptCells(r.entropy!, backgroundMean, f.threshold as number), fg)
              : null;
          return {
            ...base,
            mask: masks[i],
            concepts: concepts
              ? {
                  foreground: concepts.foregroundConcepts,
                  background: concepts.backgroundConcepts,
                  ratio: concepts.ratio
                }
              : null
          };
        })
      };
      await writeJsonAtomic(out, doc);
      for (const [name, bytes] of graphs) await writeFileAtomic(join(f['save-graph'] as string, `${name}.onnx`), bytes);
      if (f.json) process.stdout.write(JSON.stringify(doc) + '\n');
      else {
        const notEffective = results.filter((r) => !r.effective).length;
        process.stderr.write(
          `wrote ${out}: ${results.length} images${notEffective ? `, ${notEffective} not effective (sigma_f2 = 0)` : ''}\n`
        );
        for (const [i, r] of results.entries()) {
          const c = doc.images[i] as { concepts?: { foreground: number; background: number } | null };
          process.stderr.write(
            `  ${basename(images[i])}: mean entropy ${r.effective ? r.meanEntropy.toFixed(3) : 'n/a'}${c.concepts ? `, N_fg ${c.concepts.foreground}, N_bg ${c.concepts.background}` : ''}\n`
          );
        }
      }
      return 0;
    } finally {
      model.dispose();
    }
  }
};
