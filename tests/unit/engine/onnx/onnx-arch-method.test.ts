/*
 * student.method on an ONNX architecture: the first full-batch step's loss of a logit-distillation,
 * attention-transfer and combined stage equals distill-losses.ts (TF.js, cpu) on the two networks'
 * forward values; attention layers are named by node or output, and unknown, outside or non-[c, h, w]
 * ones are refused naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { planOnnxArchitecture } from '../../../../src/engine/onnx/onnx-arch';
import { trainOnnxStage, type OnnxObjective } from '../../../../src/engine/onnx/onnx-arch-train';
import { initialWeights } from '../../../../src/engine/onnx/onnx-arch-weights';
import { forwardAll, openForward } from '../../../../src/engine/onnx/onnx-arch-forward';
import { attentionShapes, checkStudentMethod } from '../../../../src/engine/onnx/onnx-arch-method';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import type { RuntimeChoice } from '../../../../src/engine/onnx/runtime';
import { distillLoss } from '../../../../src/engine/training/distill-losses';
import type { ImageSet } from '../../../../src/engine/training/batches';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { OnnxRunConfigSchema, type OnnxRunConfig, type StudentMethod } from '../../../../src/common/config';
import { describeOnnxRun, prepareOnnxRun } from '../../../../src/engine/onnx/onnx-arch-run';
import { inWorkspace } from '../../../../src/engine/onnx/onnx-arch-experiment';
import type { EpochLog } from '../../../../src/common/record-schemas';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import {
  archRequest,
  brightImages,
  experimentCount,
  onnxArchConfig,
  onnxWorkspace,
  tinyTeacherStart
} from '../../../helpers/onnx-arch';
import { requireRuntime } from '../../../helpers/train-fd';

const request = (file: string) => archRequest(file, { pretrained: true });
const plan = planOnnxArchitecture(request('tiny-arch.onnx'));
const imageSet = (): ImageSet => brightImages();

const LAYERS = ['/Relu', '/Relu_1'];

describe('student.method on an ONNX architecture: the step loss against distill-losses.ts', () => {
  let runtime: RuntimeChoice;
  beforeAll(async () => {
    await useBackend('cpu');
    runtime = await requireRuntime();
  });

  /** distill-losses.ts's loss from the two networks' values (inference-mode forwards on ONNX Runtime). */
  async function reference(o: {
    student: Map<string, Float32Array>;
    teacher: Map<string, Float32Array>;
    objective: Extract<OnnxObjective, { kind: 'distill' }>;
    set: ImageSet;
  }): Promise<number> {
    const layers = o.objective.attention?.layers ?? [];
    const values = [plan.classifier.value, plan.tap.name, ...layers];
    const shapes = [[3], [6, 8, 8], ...attentionShapes(plan, layers)];
    const read = async (w: Map<string, Float32Array>): Promise<tf.Tensor[]> => {
      const f = await openForward({ plan, weights: w, values, runtime });
      try {
        const all = await forwardAll(f, o.set);
        // Channels-first values to the [n, h, w, c] layout distill-losses.ts reads.
        return all.map((v, i) => {
          const t = tf.tensor(v, [o.set.n, ...shapes[i]]);
          return shapes[i].length === 3 ? t.transpose([0, 2, 3, 1]) : t;
        });
      } finally {
        await f.release();
      }
    };
    const [s, t] = [await read(o.student), await read(o.teacher)];
    const onehot = tf.oneHot(tf.tensor1d(o.set.labels, 'int32'), 3);
    const outputs = (v: tf.Tensor[]) => ({ logits: v[0], feature: v[1], attention: v.slice(2) });
    const loss = distillLoss(
      {
        featureScale: o.objective.scale,
        logits: o.objective.logits,
        attentionBeta: o.objective.attention?.beta ?? null
      },
      outputs(s),
      outputs(t),
      onehot
    );
    const value = (await loss.data())[0];
    tf.dispose([...s, ...t, onehot, loss]);
    return value;
  }

  const cases: [string, Omit<Extract<OnnxObjective, { kind: 'distill' }>, 'kind' | 'teacher'>][] = [
    ['logits (T = 4, alpha = 0.7)', { scale: null, logits: { temperature: 4, alpha: 0.7 }, attention: null }],
    ['logits alone (alpha = 1)', { scale: null, logits: { temperature: 2, alpha: 1 }, attention: null }],
    [
      'attention at two layers (beta = 1000, with the labels)',
      { scale: null, logits: null, attention: { layers: LAYERS, beta: 1000 } }
    ],
    ['feature + logits', { scale: 0.5, logits: { temperature: 3, alpha: 0.5 }, attention: null }],
    ['feature + attention', { scale: 0.5, logits: null, attention: { layers: ['/Relu'], beta: 50 } }],
    [
      'feature + logits + attention',
      { scale: 0.5, logits: { temperature: 3, alpha: 0.5 }, attention: { layers: ['/Relu_1'], beta: 50 } }
    ]
  ];
  for (const [name, terms] of cases)
    it(
      name,
      async () => {
        const set = imageSet();
        const teacher = tinyTeacherStart(plan);
        const student = initialWeights(plan, 9);
        const objective = { kind: 'distill' as const, teacher, ...terms };
        // The batch norm's scale and bias frozen: it runs in inference mode, as the reference forwards do.
        const trainable = plan.trainable.filter((p) => !p.startsWith('bn1.'));
        const r = await trainOnnxStage({
          plan,
          start: student,
          set,
          stage: { epochs: 2, lr: 0.05, lrEnd: 0.05, batchSize: set.n },
          training: { momentum: 0.9, weightDecay: 0, augment: null, seed: 1, clipNorm: 0 },
          runtime,
          objective,
          trainable,
          checkpoints: [],
          onCheckpoint: async () => undefined
        });
        const expected = await reference({ student, teacher, objective, set });
        // One full-batch step per epoch: epoch 1's mean is the first step's loss, before its update.
        expect(Math.abs(r.losses[0] - expected) / expected).toBeLessThan(1e-5);
        expect(r.losses[1]).toBeLessThan(r.losses[0]);
      },
      30_000
    );
});

describe('the teacher forward of an ONNX architecture', () => {
  it('computes every value in one graph exactly as one graph per value does', async () => {
    await useBackend('cpu');
    const runtime = await requireRuntime();
    const weights = tinyTeacherStart(plan);
    const relu = plan.ir.nodes.find((n) => n.name === '/Relu')!.outputs[0];
    // Out of graph order, with a value twice: the graph of the logits computes the rest.
    const values = ['/Relu_1', plan.classifier.value, '/Relu', relu, '/Relu_1'];
    const [one, each] = [
      await openForward({ plan, weights, values, runtime }),
      await openForward({ plan, weights, values, runtime, separate: true })
    ];
    try {
      expect(one.sizes).toEqual([384, 3, 1024, 1024, 384]);
      expect(each.sizes).toEqual(one.sizes);
      expect([one.graphs, each.graphs]).toEqual([1, 5]);
      const set = imageSet();
      const [a, b] = [await forwardAll(one, set), await forwardAll(each, set)];
      a.forEach((v, i) => expect(Array.from(v), values[i]).toEqual(Array.from(b[i])));
    } finally {
      await one.release();
      await each.release();
    }
  });
});

describe('attention layers of an ONNX architecture', () => {
  it('are node or output names of the graph; unknown, outside and non-[c, h, w] names are refused naming the field', () => {
    const relu = plan.ir.nodes.find((n) => n.name === '/Relu')!;
    expect(attentionShapes(plan, ['/Relu', relu.outputs[0], '/Relu_1'])).toEqual([
      [4, 16, 16],
      [4, 16, 16],
      [6, 8, 8]
    ]);
    const method = (layers: string[]) => ({ feature: true, logits: null, attention: { layers, beta: 1000 } });
    expect(() => checkStudentMethod(plan, method(['/Relu', '/nope']))).toThrow(
      /^tiny-arch\.onnx: student\.method\.attention\.layers\[1\]: no node or output named '\/nope' \(the names are: /
    );
    expect(() => checkStudentMethod(plan, method(['/Flatten']))).toThrow(
      "tiny-arch.onnx: student.method.attention.layers[0]: '/Flatten' has per-image shape [6], not a convolutional activation [c, h, w]"
    );
    const softmax = planOnnxArchitecture(request('softmax-out.onnx'));
    const after = softmax.ir.nodes.find((n) => n.op === 'Softmax')!.name;
    expect(() => checkStudentMethod(softmax, method([after]))).toThrow(
      `softmax-out.onnx: student.method.attention.layers[0]: '${after}' is outside the trainable graph`
    );
    expect(() => checkStudentMethod(plan, method(LAYERS))).not.toThrow();
    expect(() =>
      checkStudentMethod(plan, { feature: false, logits: { temperature: 4, alpha: 0.9 }, attention: null })
    ).not.toThrow();
  });
});

describe('a tiny ONNX-architecture experiment with each method', () => {
  const tmp = tempDir('kd-onnx-method-');
  const ws = tmp.path;
  afterAll(() => tmp.cleanup());
  beforeAll(async () => {
    await useBackend('cpu');
    await onnxWorkspace(ws);
  });
  const config = (name: string, method: StudentMethod): Record<string, unknown> =>
    onnxArchConfig(name, { more: (rest) => ({ student: { ...rest.student, method } }) });
  it('kd-lens run says what stage 1 distils, and refuses an unknown attention layer before writing anything', async () => {
    const parsed = (method: StudentMethod) =>
      inWorkspace(ws, OnnxRunConfigSchema.parse(config('said', method)) as OnnxRunConfig);
    const prepare = (c: OnnxRunConfig) =>
      prepareOnnxRun({
        workspace: ws,
        config: c,
        onnx: c.architecture.onnx,
        classifier: null,
        tap: c.tap,
        teacher: c.teacher.pretrained
      });
    const method: StudentMethod = {
      feature: true,
      logits: { temperature: 4, alpha: 0.9 },
      attention: { layers: ['/Relu'], beta: 1000 }
    };
    expect(describeOnnxRun(await prepare(parsed(method))).at(-1)).toBe(
      "  student stage 1 distils the feature at the tap + logits (temperature 4, alpha 0.9) + attention at '/Relu' [4x16x16] (beta 1000), training every layer"
    );
    const before = experimentCount(ws);
    const unknown = parsed({ ...method, attention: { layers: ['/Relu', 'conv9'], beta: 1000 } });
    await expect(prepare(unknown)).rejects.toThrow(
      /student\.method\.attention\.layers\[1\]: no node or output named 'conv9'/
    );
    await expect(createExperiment(ws, config('refused', unknown.student.method!))).rejects.toThrow(
      /student\.method\.attention\.layers\[1\]/
    );
    expect(experimentCount(ws)).toBe(before);
  });

  const methods: [string, StudentMethod][] = [
    ['logits', { feature: false, logits: { temperature: 4, alpha: 0.9 }, attention: null }],
    ['attention', { feature: true, logits: null, attention: { layers: ['/Relu', '/Relu_1'], beta: 1000 } }]
  ];
  for (const [name, method] of methods)
    it(`${name}: stage 1 distils every layer, stage 2 follows, the run finishes with its metrics`, async () => {
      const id = await createExperiment(ws, config(name, method));
      await runExperiment(ws, id);
      const p = new ExperimentPaths(ws, id);
      const state = JSON.parse(readFileSync(p.state, 'utf8'));
      expect(state.status).toBe('finished');
      expect(state.stages['student stage 1'].engine).toMatch(/^onnx cpu/);
      const log = JSON.parse(readFileSync(join(p.net('S'), 'train-log.json'), 'utf8')) as EpochLog[];
      const stage1 = log.filter((l) => l.stage === 'student stage 1');
      expect(stage1).toHaveLength(3);
      expect(stage1.every((l) => Number.isFinite(l.loss))).toBe(true);
      // The classifier, above the tap, moved in stage 1 (every layer trains).
      const at = (e: number) =>
        readOnnxModel(readFileSync(join(p.net('S'), `epoch-${e}.onnx`)), 'x').initializers.get('fc.weight')!.data;
      expect(Array.from(at(3) as Float32Array)).not.toEqual(Array.from(at(0) as Float32Array));
      expect(existsSync(p.metrics)).toBe(true);
    }, 120_000);
});
