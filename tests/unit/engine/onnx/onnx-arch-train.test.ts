// Training an ONNX architecture on ONNX Runtime: the teacher starts from the pretrained file, S and B share their seeded start, checkpoints are ONNX files the study code opens.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureScale, trainOnnxStage } from '../../../../src/engine/onnx/onnx-arch-train';
import { checkpointBytes, initialWeights, teacherWeights } from '../../../../src/engine/onnx/onnx-arch-weights';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { openCheckpoint } from '../../../../src/engine/study/checkpoint';
import type { ImageSet } from '../../../../src/engine/training/batches';
import { brightImages, tinyArchPlan, TINY_ARCH } from '../../../helpers/onnx-arch';
import { requireRuntime } from '../../../helpers/train-fd';

const plan = tinyArchPlan({ pretrained: true });
const file = readOnnxModel(readFileSync(TINY_ARCH), 'tiny-arch.onnx');
const TRUNK = plan.trainable.filter((n) => !n.startsWith('fc.')).concat(plan.state);
/** 12 images of 3 classes: class k brightens channel k (learnable in a few steps). */
const imageSet = (): ImageSet => brightImages();

describe('initialisers', () => {
  it('S and B share their start from one seed; another seed differs; kinds as PyTorch', () => {
    const a = initialWeights(plan, 5);
    const b = initialWeights(plan, 5);
    const c = initialWeights(plan, 6);
    for (const [k, v] of a) expect(Array.from(b.get(k)!), k).toEqual(Array.from(v));
    expect(Array.from(c.get('conv1.weight')!)).not.toEqual(Array.from(a.get('conv1.weight')!));
    const bound = (name: string, fan: number): void => {
      const v = a.get(name)!;
      expect(Math.max(...v.map(Math.abs)), name).toBeLessThanOrEqual(1 / Math.sqrt(fan));
      expect(Math.max(...v.map(Math.abs)), name).toBeGreaterThan(0.5 / Math.sqrt(fan));
    };
    bound('conv1.weight', 3 * 9);
    bound('conv2.weight', 4 * 9);
    bound('conv2.bias', 4 * 9);
    bound('fc.weight', 6);
    expect(Array.from(a.get('bn1.weight')!)).toEqual([1, 1, 1, 1]);
    expect(Array.from(a.get('bn1.bias')!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(a.get('bn1.running_mean')!)).toEqual([0, 0, 0, 0]);
    expect(Array.from(a.get('bn1.running_var')!)).toEqual([1, 1, 1, 1]);
  });

  it("the teacher starts from the file's trunk with a re-initialised classifier of the target classes", () => {
    const t = teacherWeights(plan, file, 5);
    for (const name of TRUNK)
      expect(Array.from(t.get(name)!), name).toEqual(Array.from(file.initializers.get(name)!.data as Float32Array));
    expect(t.get('fc.weight')!.length).toBe(3 * 6);
    expect(Array.from(t.get('fc.weight')!)).toEqual(Array.from(initialWeights(plan, 5).get('fc.weight')!));
  });
});

describe('trainOnnxStage', () => {
  it('fine-tunes the teacher; checkpoints are ONNX files of the same graph that the study code opens', async () => {
    const runtime = await requireRuntime();
    expect('error' in runtime).toBe(false);
    const dir = mkdtempSync(join(tmpdir(), 'kd-onnx-arch-'));
    try {
      const written: number[] = [];
      const start = teacherWeights(plan, file, 5);
      const { losses, weights } = await trainOnnxStage({
        plan,
        start,
        set: imageSet(),
        stage: { epochs: 4, lr: 0.05, lrEnd: 0.01, batchSize: 4 },
        training: { momentum: 0.9, weightDecay: 5e-4, augment: null, seed: 5, clipNorm: 0 },
        runtime,
        checkpoints: [0, 2, 4],
        onCheckpoint: async (epoch, b) => {
          written.push(epoch);
          writeFileSync(join(dir, `epoch-${epoch}.onnx`), b);
        }
      });
      expect(written).toEqual([0, 2, 4]);
      expect(losses.every(Number.isFinite)).toBe(true);
      expect(losses[3]).toBeLessThan(losses[0]);
      const first = readOnnxModel(readFileSync(join(dir, 'epoch-0.onnx')), 'epoch-0.onnx');
      for (const name of TRUNK)
        expect(Array.from(first.initializers.get(name)!.data as Float32Array), name).toEqual(
          Array.from(file.initializers.get(name)!.data as Float32Array)
        );
      const last = readOnnxModel(readFileSync(join(dir, 'epoch-4.onnx')), 'epoch-4.onnx');
      expect(Array.from(last.initializers.get('conv1.weight')!.data as Float32Array)).toEqual(
        Array.from(weights.get('conv1.weight')!)
      );
      expect(Array.from(weights.get('conv1.weight')!)).not.toEqual(Array.from(start.get('conv1.weight')!));
      // The running statistics moved with the batches (batch norm trained in training mode).
      expect(Array.from(weights.get('bn1.running_mean')!)).not.toEqual(Array.from(start.get('bn1.running_mean')!));
      const ck = await openCheckpoint(join(dir, 'epoch-4.onnx'), '/Relu_1');
      expect(ck).toBeTruthy();
      expect(checkpointBytes(plan, weights)).toEqual(new Uint8Array(readFileSync(join(dir, 'epoch-4.onnx'))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('same science as PyTorch', () => {
  it('3 full-batch SGD steps of the file in train mode (new classifier) agree with torch.optim.SGD step by step', async () => {
    const torch = JSON.parse(
      readFileSync(join(__dirname, '../../../fixtures/onnx-arch/tiny-arch-steps.json'), 'utf8')
    ) as {
      labels: number[];
      tapVariance: number;
      start: Record<string, number[]>;
      losses: number[];
      final: Record<string, number[]>;
    };
    const n = 8,
      s = 16;
    const x = new Float32Array(n * s * s * 3);
    for (let i = 0; i < n; i++)
      for (let r = 0; r < s; r++)
        for (let c = 0; c < s; c++)
          for (let k = 0; k < 3; k++) x[((i * s + r) * s + c) * 3 + k] = Math.sin(7 * i + 3 * r + 5 * c + k);
    const start = teacherWeights(plan, file, 0);
    start.set('fc.weight', Float32Array.from(torch.start['fc.weight']));
    start.set('fc.bias', Float32Array.from(torch.start['fc.bias']));
    const runtime = await requireRuntime();
    const { losses, weights } = await trainOnnxStage({
      plan,
      start,
      set: { n, size: s, x, labels: Int32Array.from(torch.labels), ids: torch.labels.map(String), masks: null },
      stage: { epochs: 3, lr: 0.05, lrEnd: 0.05, batchSize: n },
      training: { momentum: 0.9, weightDecay: 5e-4, augment: null, seed: 1, clipNorm: 0 },
      runtime,
      checkpoints: [],
      onCheckpoint: async () => {}
    });
    // Stage 1's 'teacher-variance' scale is 1 / Var_T of the tap over the images, as torch computes it.
    const scale = await featureScale(
      {
        plan,
        start,
        set: { n, size: s, x, labels: Int32Array.from(torch.labels), ids: torch.labels.map(String), masks: null },
        stage: { epochs: 1, lr: 0.1, lrEnd: 0.1, batchSize: n },
        training: { momentum: 0, weightDecay: 0, augment: null, seed: 0, clipNorm: 0 },
        runtime,
        checkpoints: [],
        onCheckpoint: async () => {}
      },
      teacherWeights(plan, file, 0),
      'teacher-variance'
    );
    expect(Math.abs(scale * torch.tapVariance - 1)).toBeLessThan(1e-5);
    losses.forEach((l, i) => expect(Math.abs(l - torch.losses[i]) / torch.losses[i], `step ${i}`).toBeLessThan(1e-5));
    for (const [name, expected] of Object.entries(torch.final)) {
      const got = weights.get(name)!;
      let diff = 0,
        norm = 0;
      expected.forEach((e, i) => ((diff += (got[i] - e) ** 2), (norm += e * e)));
      expect(Math.sqrt(diff / norm), name).toBeLessThan(1e-6); // measured: 1e-8 to 1.4e-7
    }
  });
});
