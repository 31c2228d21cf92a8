import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';
import { tf } from '../../../../src/engine/tf/backend';
import { distillLoss, evaluate, type Objective } from '../../../../src/engine/training/stage';
import { trainStage } from '../../../../src/engine/training/folder-stage';
import { attentionTransferLoss, logitDistillationLoss } from '../../../../src/engine/training/distill-losses';
import { distillObjective } from '../../../../src/engine/experiment/distill';
import { buildNetwork } from '../../../../src/engine/models/architectures';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { readTrainLog } from '../../../../src/engine/experiment/record';
import { RunConfigSchema } from '../../../../src/common/config';
import type { ImageSet } from '../../../../src/engine/training/data';
import { loadLayersModelFromDir } from '../../../../src/engine/store/model-files';
import { Rng } from '../../../../src/engine/util/random';

const ARCH = {
  family: 'vgg' as const,
  inputSize: 16,
  channels: [4, 8],
  convsPerStage: 1,
  fcUnits: [16, 8] as [number, number],
  dropout: 0
};

function imageSet(n: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  const x = new Float32Array(n * 16 * 16 * 3);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 3;
    for (let p = 0; p < 256; p++)
      for (let c = 0; c < 3; c++) x[(i * 256 + p) * 3 + c] = rng.normal() * 0.5 + (c === labels[i] ? 1 : 0);
  }
  return { n, size: 16, x, labels, ids: Array.from({ length: n }, (_, i) => `i${i}`), masks: null };
}

describe('student.method on the TF.js engine', () => {
  const tmp = tempDir();
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(() => tmp.cleanup());

  it('sums the chosen terms; attention without the logit term adds the labels’ cross-entropy', async () => {
    const s = {
      logits: tf.tensor2d([[1, 2, 0]]),
      feature: tf.tensor2d([[1, 0]]),
      attention: [tf.tensor4d([1, 1], [1, 1, 2, 1])]
    };
    const t = {
      logits: tf.tensor2d([[3, 0, -1]]),
      feature: tf.tensor2d([[0, 2]]),
      attention: [tf.tensor4d([1, 0], [1, 1, 2, 1])]
    };
    const y = tf.tensor2d([[0, 1, 0]]);
    const base = { kind: 'distill' as const, numClasses: 3, student: () => s, teacher: () => t };
    const v = async (x: tf.Scalar): Promise<number> => (await x.data())[0];
    const mse = (1 + 4) / 2;
    const hinton = await v(logitDistillationLoss(s.logits, t.logits, y, { temperature: 2, alpha: 0.5 }));
    const at = await v(attentionTransferLoss([{ student: s.attention[0], teacher: t.attention[0] }], 10));
    const ce = await v(tf.losses.softmaxCrossEntropy(y, s.logits) as tf.Scalar);
    const o = (p: Partial<Extract<Objective, { kind: 'distill' }>>) => ({
      ...base,
      featureScale: null,
      logits: null,
      attentionBeta: null,
      ...p
    });
    expect(await v(distillLoss(o({ featureScale: 0.5 }), s, t, y))).toBeCloseTo(0.5 * mse, 6);
    expect(await v(distillLoss(o({ featureScale: 1, logits: { temperature: 2, alpha: 0.5 } }), s, t, y))).toBeCloseTo(
      mse + hinton,
      5
    );
    expect(await v(distillLoss(o({ attentionBeta: 10 }), s, t, y))).toBeCloseTo(at + ce, 5);
    expect(await v(distillLoss(o({ attentionBeta: 10, logits: { temperature: 2, alpha: 0.5 } }), s, t, y))).toBeCloseTo(
      at + hinton,
      5
    );
  });

  it('logit distillation alone (alpha 1) brings the student’s predictions to the teacher’s', async () => {
    const train = imageSet(48, 5);
    const teacher = buildNetwork(ARCH, 3, 1, 'teacher');
    await trainStage({
      name: 'teacher',
      model: teacher,
      trainable: teacher.trainableWeights,
      objective: { kind: 'labels', numClasses: 3 },
      config: { epochs: 4, lr: 0.05, lrEnd: 0.05, batchSize: 8 },
      momentum: 0.9,
      weightDecay: 0,
      augment: null,
      train,
      val: null,
      seed: 1,
      tapKernel: null,
      checkpoints: [],
      dir: `${tmp.path}/t`,
      clipNorm: 5
    });
    const student = buildNetwork(ARCH, 3, 2, 'student');
    const objective = distillObjective({
      student,
      teacher,
      tap: 'fc1',
      classes: 3,
      scale: 1,
      method: { feature: false, logits: { temperature: 4, alpha: 1 }, attention: null }
    });
    const before = (await evaluate(student, objective, train)).loss;
    const r = await trainStage({
      name: 'student stage 1',
      model: student,
      trainable: student.trainableWeights,
      objective,
      config: { epochs: 4, lr: 0.05, lrEnd: 0.05, batchSize: 8 },
      momentum: 0.9,
      weightDecay: 0,
      augment: null,
      train,
      val: train,
      seed: 3,
      tapKernel: null,
      checkpoints: [],
      dir: `${tmp.path}/s`,
      clipNorm: 5
    });
    const after = r.logs[r.logs.length - 1].valLoss!;
    // T^2 KL(teacher || student) on the training images falls to a fraction of its start.
    expect(after).toBeLessThan(before / 3);
    expect(r.logs[0].accuracy).not.toBeNull();
    teacher.dispose();
    student.dispose();
  }, 60_000);

  it('names a missing attention layer with the layers that exist', () => {
    const a = buildNetwork(ARCH, 3, 1, 'a');
    expect(() =>
      distillObjective({
        student: a,
        teacher: a,
        tap: 'fc1',
        classes: 3,
        scale: 1,
        method: { feature: true, logits: null, attention: { layers: ['conv9'], beta: 1000 } }
      })
    ).toThrow(/no layer 'conv9'; its layers are: input, conv1/);
    expect(() =>
      distillObjective({
        student: a,
        teacher: a,
        tap: 'fc1',
        classes: 3,
        scale: 1,
        method: { feature: true, logits: null, attention: { layers: ['fc2'], beta: 1000 } }
      })
    ).toThrow(/'fc2' is not a convolutional activation/);
    expect(
      RunConfigSchema.safeParse({
        ...tinyConfig(),
        student: { ...tinyConfig().student, method: { feature: false, logits: null, attention: null } }
      }).success
    ).toBe(false);
    a.dispose();
  });

  it('a whole run with feature + logits + attention at conv1 trains every layer in stage 1', async () => {
    const ws = `${tmp.path}/ws`;
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    await writeTinyDataset(ws, 'tiny-source', { seed: 2, perClass: 12, valPerClass: 0 });
    const config = tinyConfig();
    config.student.method = {
      feature: true,
      logits: { temperature: 4, alpha: 0.9 },
      attention: { layers: ['conv1'], beta: 1000 }
    };
    const id = await createExperiment(ws, config);
    const metrics = await runExperiment(ws, id);
    const logs = await readTrainLog(new ExperimentPaths(ws, id), 'S');
    const stage1 = logs.filter((l) => l.stage === 'student stage 1');
    expect(stage1).toHaveLength(3);
    // With the logit term the stage reports the student's accuracy (a feature-only stage 1 has none).
    for (const l of stage1) expect(l.accuracy).not.toBeNull();
    expect(metrics.summary.student.accuracy).not.toBeNull();
    // fc3 lies above the tap (fc1): a feature-only stage 1 leaves it at its initial weights, this one moves it.
    const paths = new ExperimentPaths(ws, id);
    const fc3 = async (epoch: number): Promise<number[]> => {
      const m = await loadLayersModelFromDir(paths.checkpoint('S', epoch));
      const w = Array.from(await m.getLayer('fc3').getWeights()[0].data());
      m.dispose();
      return w;
    };
    const [w0, w3] = [await fc3(0), await fc3(3)];
    expect(w3.some((v, i) => v !== w0[i])).toBe(true);
  }, 240_000);
});
