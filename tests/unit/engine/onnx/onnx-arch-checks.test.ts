/*
 * What an ONNX-architecture stage measures besides its loss, as the TF.js stages do: training
 * accuracy, validation loss and accuracy per epoch (checked against TF.js's cross-entropy and
 * distill-losses.ts on the networks' inference-mode values), and the early protocol checks of a run
 * (checks.stopOnFail): a teacher weaker than the baseline stops the run before any student trains,
 * a resume repeats the refusal, --force continues past it; stage 1 writes distill.json, and a
 * student that does not reproduce the teacher's feature stops the run before stage 2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { trainOnnxStage, type OnnxObjective } from '../../../../src/engine/onnx/onnx-arch-train';
import { belowTap, initialWeights, type Weights } from '../../../../src/engine/onnx/onnx-arch-weights';
import { forwardAll, openForward } from '../../../../src/engine/onnx/onnx-arch-forward';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import type { RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { distillLoss } from '../../../../src/engine/training/distill-losses';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { EarlyStopError } from '../../../../src/engine/experiment/early-checks';
import type { ImageSet } from '../../../../src/engine/training/batches';
import type { ExperimentEvent } from '../../../../src/common/events';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import {
  brightImages,
  onnxArchConfig,
  onnxWorkspace,
  tinyArchPlan,
  tinyTeacherStart
} from '../../../helpers/onnx-arch';
import { requireRuntime } from '../../../helpers/train-fd';

const plan = tinyArchPlan({ pretrained: true });

/** n images of 3 classes: class k brightens channel k (by 0.3, a task the networks do not learn at once). */
const imageSet = (seed: number, n = 12): ImageSet => brightImages({ seed, n, lift: 0.3 });

describe('epoch logs of an ONNX-architecture stage', () => {
  let runtime: RuntimeChoice;
  beforeAll(async () => {
    await useBackend('cpu');
    runtime = await requireRuntime();
  });
  const teacher = () => tinyTeacherStart(plan);

  /** Inference-mode values of the network on a set, as TF.js tensors ([n, h, w, c] for activations). */
  async function values(w: Weights, set: ImageSet, names: string[], shapes: number[][]): Promise<tf.Tensor[]> {
    const f = await openForward({ plan, weights: w, values: names, runtime });
    try {
      const all = await forwardAll(f, set);
      return all.map((v, i) => {
        const t = tf.tensor(v, [set.n, ...shapes[i]]);
        return shapes[i].length === 3 ? t.transpose([0, 2, 3, 1]) : t;
      });
    } finally {
      await f.release();
    }
  }

  it('labels: training accuracy (lr 0: the inference accuracy of the start), validation loss and accuracy as TF.js computes them', async () => {
    const [train, val] = [imageSet(7), imageSet(8, 9)];
    const start = teacher();
    // lr 0 and the batch norm frozen (inference mode): the step's predictions are the start's.
    const r = await trainOnnxStage({
      plan,
      start,
      set: train,
      val,
      stage: { epochs: 1, lr: 1e-30, lrEnd: 1e-30, batchSize: 5 },
      training: { momentum: 0, weightDecay: 0, augment: null, seed: 1, clipNorm: 0 },
      runtime,
      trainable: plan.trainable.filter((p) => !p.startsWith('bn1.')),
      checkpoints: [],
      onCheckpoint: async () => undefined
    });
    const accuracy = async (set: ImageSet): Promise<{ acc: number; ce: number }> => {
      const [logits] = await values(r.weights, set, [plan.classifier.value], [[3]]);
      const onehot = tf.oneHot(tf.tensor1d(set.labels, 'int32'), 3);
      const pred = await logits.argMax(-1).data();
      const ce = (await tf.losses.softmaxCrossEntropy(onehot, logits).data())[0];
      return { acc: Array.from(pred).filter((p, i) => p === set.labels[i]).length / set.n, ce };
    };
    const log = r.logs[0];
    const onTrain = await accuracy(train);
    const onVal = await accuracy(val);
    expect(log.accuracy).toBe(onTrain.acc);
    expect(log.valAccuracy).toBe(onVal.acc);
    expect(Math.abs(log.valLoss! - onVal.ce) / onVal.ce).toBeLessThan(1e-5);
    expect(log.gradNorm!.max).toBeGreaterThan(0);
    expect(log.clip).toEqual({ maxNorm: null, clippedSteps: 0, steps: 3 });
  }, 30_000);

  it('feature and student.method: validation loss as distill-losses.ts computes it; no training accuracy for the feature term', async () => {
    const [train, val] = [imageSet(7), imageSet(8, 9)];
    const t = teacher();
    const objectives: Extract<OnnxObjective, { kind: 'feature' | 'distill' }>[] = [
      { kind: 'feature', teacher: t, scale: 2 },
      {
        kind: 'distill',
        teacher: t,
        scale: 0.5,
        logits: { temperature: 3, alpha: 0.6 },
        attention: { layers: ['/Relu', '/Relu_1'], beta: 100 }
      },
      { kind: 'distill', teacher: t, scale: null, logits: null, attention: { layers: ['/Relu'], beta: 10 } }
    ];
    const below = belowTap(plan);
    for (const objective of objectives) {
      const r = await trainOnnxStage({
        plan,
        start: initialWeights(plan, 9),
        set: train,
        val,
        stage: { epochs: 1, lr: 0.05, lrEnd: 0.05, batchSize: 6 },
        training: { momentum: 0.9, weightDecay: 0, augment: null, seed: 1, clipNorm: 0 },
        runtime,
        objective,
        // The feature term alone trains the layers below the tap (as stage 1 does).
        trainable: objective.kind === 'feature' ? plan.trainable.filter((n) => below.has(n)) : plan.trainable,
        checkpoints: [],
        onCheckpoint: async () => undefined
      });
      const layers = objective.kind === 'distill' ? [...(objective.attention?.layers ?? [])] : [];
      const names = [plan.classifier.value, plan.tap.name, ...layers];
      const shapes = [[3], [6, 8, 8], ...layers.map((l) => (l === '/Relu' ? [4, 16, 16] : [6, 8, 8]))];
      const [s, te] = [await values(r.weights, val, names, shapes), await values(t, val, names, shapes)];
      const out = (v: tf.Tensor[]) => ({ logits: v[0], feature: v[1], attention: v.slice(2) });
      const terms =
        objective.kind === 'feature'
          ? { featureScale: objective.scale, logits: null, attentionBeta: null }
          : {
              featureScale: objective.scale,
              logits: objective.logits,
              attentionBeta: objective.attention?.beta ?? null
            };
      const onehot = tf.oneHot(tf.tensor1d(val.labels, 'int32'), 3);
      const expected = (await distillLoss(terms, out(s), out(te), onehot).data())[0];
      const log = r.logs[0];
      expect(Math.abs(log.valLoss! - expected) / expected, objective.kind).toBeLessThan(1e-5);
      if (objective.kind === 'feature') {
        expect(log.accuracy).toBeNull();
        expect(log.valAccuracy).toBeNull();
      } else {
        expect(log.accuracy).not.toBeNull();
        const pred = await s[0].argMax(-1).data();
        expect(log.valAccuracy).toBe(Array.from(pred).filter((p, i) => p === val.labels[i]).length / val.n);
      }
    }
  }, 60_000);
});

describe('early protocol checks of an ONNX-architecture run', () => {
  const tmp = tempDir('kd-onnx-checks-');
  const ws = tmp.path;
  afterAll(() => tmp.cleanup());
  beforeAll(async () => {
    await useBackend('cpu');
    await onnxWorkspace(ws);
  });

  it('a weak teacher stops the run after the baseline, a student that does not mimic it after stage 1; resume refuses, --force goes on', async () => {
    // A teacher from the seed fine-tuned at a negligible rate stays at chance; the baseline learns.
    const id = await createExperiment(
      ws,
      onnxArchConfig('weak-teacher', {
        teacher: (rest) => ({ pretrained: null, finetune: { ...rest.teacher.finetune, lr: 1e-9, lrEnd: 1e-9 } }),
        more: () => ({ checks: { stopOnFail: true } })
      })
    );
    const events: ExperimentEvent[] = [];
    const stopped = await runExperiment(ws, id, { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    expect(stopped).toBeInstanceOf(EarlyStopError);
    const p = new ExperimentPaths(ws, id);
    const state = JSON.parse(readFileSync(p.state, 'utf8'));
    expect(state.stop.after).toBe('the baseline');
    expect(state.stop.checks.map((c: { id: string }) => c.id)).toEqual(['teacher-beats-baseline']);
    expect(state.stages['student stage 1']).toBeUndefined();
    // The check read the validation accuracies the epochs logged.
    const lastVal = (net: string) =>
      JSON.parse(readFileSync(join(p.net(net), 'train-log.json'), 'utf8')).at(-1).valAccuracy;
    expect(lastVal('T')).toBeLessThanOrEqual(lastVal('B'));

    expect(events.some((e) => e.type === 'log' && /check after the baseline: .*teacher/.test(e.message))).toBe(true);

    await expect(runExperiment(ws, id)).rejects.toThrow(/kd-lens run --resume .* --force/);
    // Past it, the student (3 epochs of stage 1 from its own start) does not reproduce the teacher's feature: the next stop.
    const second = await runExperiment(ws, id, { force: true }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(EarlyStopError);
    const again = JSON.parse(readFileSync(p.state, 'utf8'));
    expect(again.stop.after).toBe('S stage 1');
    expect(again.stop.checks.map((c: { id: string }) => c.id)).toEqual(['student-mimics-teacher']);
    expect(again.stages['student stage 1'].status).toBe('done');
    expect(again.stages['student stage 2']).toBeUndefined();
    // Stage 1 wrote the record the student checks read.
    const d = JSON.parse(readFileSync(join(p.net('S'), 'distill.json'), 'utf8'));
    expect(d.evaluatedOn).toBe('validation');
    expect(d.images).toBeGreaterThan(0);
    expect(d.unexplained).toBeCloseTo(d.mse / d.variance, 12);
    expect(d.unexplained).toBeGreaterThanOrEqual(1); // measured: 1.58
    await runExperiment(ws, id, { force: true });
    expect(JSON.parse(readFileSync(p.state, 'utf8')).status).toBe('finished');
    // A teacher from the seed starts from its own stream, not from the start of S and B.
    const start = (net: string) =>
      Array.from(
        readOnnxModel(readFileSync(join(p.net(net), 'epoch-0.onnx')), net).initializers.get('conv1.weight')!
          .data as Float32Array
      );
    expect(start('T')).not.toEqual(start('B'));
    expect(start('S')).toEqual(start('B'));
    expect(existsSync(p.metrics)).toBe(true);
  }, 120_000);
});
