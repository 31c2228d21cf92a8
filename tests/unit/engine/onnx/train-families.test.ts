/*
 * torchvision families the training-step compiler used to refuse (tests/fixtures/onnx/families,
 * scripts/make-onnx-families.py: ShuffleNet, SqueezeNet and the idioms net), as a run's architecture: planned with the classifier replaced for 3
 * classes and re-initialised from a seed (onnx-arch-weights.ts), compiled to one training step whose
 * weight gradients must match central finite differences of its own loss on a few parameters (the
 * first convolution, one in the middle, the classifier's weight and bias); the checkpoint graph of a
 * fixed-batch export must take any batch.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { chooseRuntime, type RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { trainOnnxStage } from '../../../../src/engine/onnx/onnx-arch-train';
import { openCheckpoint } from '../../../../src/engine/study/checkpoint';
import { Rng } from '../../../../src/engine/util/random';
import type { ImageSet } from '../../../../src/engine/training/batches';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { planOnnxArchitecture, type OnnxArchPlan } from '../../../../src/engine/onnx/onnx-arch';
import { checkpointBytes, initialWeights, teacherWeights } from '../../../../src/engine/onnx/onnx-arch-weights';
import { f32, type ModelIr } from '../../../../src/engine/onnx/ir';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { expectFdAgreement, labelBatch, labelsGradients, randomNormal, requireOrt } from '../../../helpers/train-fd';

const DIR = join(__dirname, '../../../fixtures/onnx/families');
const CLASSES = 3;
let ort: typeof Ort;

function plan(file: string, classifier: string | null = null): OnnxArchPlan {
  const bytes = new Uint8Array(readFileSync(join(DIR, file)));
  const ir = readOnnxModel(bytes, file);
  const convs = ir.nodes.filter((n) => n.op === 'Conv');
  return planOnnxArchitecture({
    bytes,
    file,
    classifier,
    tap: convs[Math.floor(convs.length / 2)].outputs[0],
    imageSize: ir.input.shape[1],
    classes: CLASSES,
    dataset: 'd',
    pretrained: false
  });
}

/** One training step on a batch of 3 (not the fixed-batch exports' 2): directional derivatives of a few weights. */
async function checkGradients(p: OnnxArchPlan, check: string[], fd: { eps: number; tolerance: number }): Promise<void> {
  // The teacher's start: the file's (calibrated) weights, the classifier re-initialised (a fresh deep
  // network's gradients vanish below what float32 finite differences resolve).
  const weights = teacherWeights(p, readOnnxModel(new Uint8Array(readFileSync(join(DIR, p.file))), p.file), 1);
  const initializers = new Map(p.ir.initializers);
  for (const [k, v] of weights) initializers.set(k, f32(initializers.get(k)!.dims, v));
  const model: ModelIr = { ...p.ir, initializers };
  const s = p.inputSize;
  const { checks } = await labelsGradients({
    ort,
    model,
    trainable: p.trainable,
    batch: labelBatch({ shape: [3, s, s], labels: [0, 1, 2], seed: 5, classes: CLASSES }),
    check,
    weights,
    logits: p.classifier.value,
    eps: fd.eps,
    image: { height: s, width: s }
  });
  expectFdAgreement(checks, { tolerance: fd.tolerance, minGradient: 1e-4 });
}

/** The first and a middle convolution's weights, and the classifier's weight and bias. */
function sample(p: OnnxArchPlan): string[] {
  const convs = p.ir.nodes.filter(
    (n) => n.op === 'Conv' && p.trainable.includes(n.inputs[1]) && n.inputs[1] !== p.classifier.weight
  );
  const picked = [convs[0].inputs[1], convs[Math.floor(convs.length / 2)].inputs[1], p.classifier.weight];
  return p.classifier.bias ? [...picked, p.classifier.bias] : picked;
}

describe('families that train since the compiler folds shapes and knows Split', () => {
  beforeAll(async () => {
    ort = await requireOrt();
  });

  it.each(['shufflenet.onnx', 'shufflenet-opset17-static.onnx'])(
    '%s (shape arithmetic on the data path): weight gradients match finite differences',
    async (file) => {
      const p = plan(file);
      expect(p.classifier).toMatchObject({ op: 'Gemm', node: '/fc/Gemm' });
      expect(p.ir.initializers.get(p.classifier.weight)!.dims[0]).toBe(CLASSES);
      await checkGradients(p, sample(p), { eps: 2e-5, tolerance: 1e-2 });
    }
  );

  it('idioms.onnx (a Split on the data path, expand, zeros_like, view): weight gradients match finite differences', async () => {
    const p = plan('idioms.onnx');
    expect(p.ir.nodes.some((n) => n.op === 'Split')).toBe(true);
    await checkGradients(p, sample(p), { eps: 1e-4, tolerance: 1e-2 });
  });

  it('squeezenet.onnx (a 1x1 Conv as classifier, then ReLU, global pooling, Flatten): replaced for 3 classes, gradients match finite differences', async () => {
    const p = plan('squeezenet.onnx');
    expect(p.classifier).toMatchObject({ op: 'Conv', node: '/classifier/classifier.1/Conv', value: 'logits' });
    expect(p.ir.initializers.get(p.classifier.weight)!.dims).toEqual([CLASSES, 32, 1, 1]);
    // Re-initialised as any Conv: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 32 input channels.
    const w = initialWeights(p, 3).get(p.classifier.weight)!;
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(32));
    expect(Math.max(...w.map(Math.abs))).toBeGreaterThan(0.5 / Math.sqrt(32));
    await checkGradients(p, sample(p), { eps: 1e-4, tolerance: 1e-2 });
  });

  it("a fixed-batch export's checkpoint takes any batch (the export batch in its Reshapes became the input's)", async () => {
    const p = plan('shufflenet-opset17-static.onnx');
    expect(p.ir.staticBatch).toBeUndefined();
    const session = await ort.InferenceSession.create(checkpointBytes(p, initialWeights(p, 2)));
    const s = p.inputSize;
    const per = 3 * s * s;
    const x = randomNormal(3 * per, 8);
    const name = session.inputNames[0];
    const all = (await session.run({ [name]: new ort.Tensor('float32', x, [3, 3, s, s]) }))[session.outputNames[0]];
    expect(all.dims).toEqual([3, CLASSES]);
    for (let i = 0; i < 3; i++) {
      const one = await session.run({
        [name]: new ort.Tensor('float32', x.slice(i * per, (i + 1) * per), [1, 3, s, s])
      });
      const got = Array.from((all.data as Float32Array).slice(i * CLASSES, (i + 1) * CLASSES));
      const want = Array.from(one[session.outputNames[0]].data as Float32Array);
      got.forEach((v, k) => expect(v).toBeCloseTo(want[k], 5));
    }
    await session.release();
  });

  it.each(['shufflenet-opset17-static.onnx', 'squeezenet.onnx'])(
    '%s fine-tunes end to end on ONNX Runtime (batches of 4, the loss falls) and its checkpoint opens',
    async (f) => {
      const p = plan(f);
      const runtime = (await chooseRuntime('cpu', 1)) as RuntimeChoice;
      expect('error' in runtime).toBe(false);
      const dir = mkdtempSync(join(tmpdir(), 'kd-train-families-'));
      try {
        const start = teacherWeights(p, readOnnxModel(new Uint8Array(readFileSync(join(DIR, f))), f), 1);
        const { losses } = await trainOnnxStage({
          plan: p,
          start,
          set: imageSet(p.inputSize),
          stage: { epochs: 4, lr: 0.05, lrEnd: 0.02, batchSize: 4 },
          training: { momentum: 0.9, weightDecay: 5e-4, augment: null, seed: 1, clipNorm: 0 },
          runtime,
          checkpoints: [4],
          onCheckpoint: async (epoch, b) => writeFileSync(join(dir, `epoch-${epoch}.onnx`), b)
        });
        expect(losses.every(Number.isFinite)).toBe(true);
        expect(losses[3]).toBeLessThan(losses[0]);
        expect(await openCheckpoint(join(dir, 'epoch-4.onnx'), p.tap.name)).toBeTruthy();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    30_000
  );
});

/** 12 images of 3 classes: class k brightens channel k (learnable in a few steps). */
function imageSet(s: number): ImageSet {
  const rng = new Rng(7);
  const n = 12;
  const x = new Float32Array(n * s * s * 3).map(() => rng.normal() * 0.3);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  for (let i = 0; i < n; i++) for (let q = 0; q < s * s; q++) x[(i * s * s + q) * 3 + labels[i]] += 1;
  return { n, size: s, x, labels, ids: Array.from(labels, (_, i) => `i${i}`), masks: null };
}
