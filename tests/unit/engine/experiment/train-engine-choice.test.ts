/*
 * Which engine trains: 'auto' runs every stage on ONNX Runtime and records it per stage in
 * state.json and in the stage events; 'tfjs' runs TF.js and says it was requested; a stage that does
 * not compile (a GaussianNoise layer) falls back under 'auto' naming the layer, and fails under 'onnx';
 * student.method's logit and attention terms train on ONNX Runtime (no fallback).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';
import { tf } from '../../../../src/engine/tf/backend';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { readState } from '../../../../src/engine/experiment/record';
import type { ExperimentEvent } from '../../../../src/common/events';
import { whatRan } from '../../../../src/common/record-schemas';
import { writeReport } from '../../../../src/engine/report/html';
import { readFileSync } from 'node:fs';
import { selectTrainEngine, type TrainEngineChoice } from '../../../../src/engine/onnx/select-train';
import { MomentumSgd } from '../../../../src/engine/training/sgd';
import { distillObjective } from '../../../../src/engine/experiment/distill';
import { ARCHITECTURE_PRESETS, buildNetwork } from '../../../../src/engine/models/architectures';

describe('training engine choice', () => {
  const tmp = tempDir();
  beforeAll(async () => {
    await useBackend('wasm');
    await writeTinyDataset(tmp.path, 'tiny', { seed: 1 });
  }, 60_000);
  afterAll(() => tmp.cleanup());

  for (const trainEngine of ['auto', 'tfjs'] as const)
    it(`records per stage what trained under trainEngine '${trainEngine}'`, async () => {
      const config = tinyConfig({ name: trainEngine, teacher: { ...tinyConfig().teacher, source: null } });
      const id = await createExperiment(tmp.path, { ...config, trainEngine });
      const events: ExperimentEvent[] = [];
      await runExperiment(tmp.path, id, { onEvent: (e) => events.push(e) });
      const state = await readState(new ExperimentPaths(tmp.path, id));
      // In state order: the baseline trains before the student (an early check compares it with the teacher).
      const trained = ['teacher finetune', 'baseline', 'student stage 1', 'student stage 2'];
      const ran = whatRan(state).training;
      expect(ran).toHaveLength(1);
      expect(ran[0].stages).toEqual(trained);
      const html = readFileSync(await writeReport(tmp.path, id), 'utf8');
      expect(html).toContain(`Training engine asked for: ${trainEngine}`);
      for (const name of trained) {
        const engine = state.stages[name]?.engine ?? '';
        expect(engine, name).toMatch(
          trainEngine === 'auto' ? /^onnx cpu — \d+ threads?$/ : /^tfjs \(wasm\) — requested$/
        );
        expect(
          events.some((e) => e.type === 'stage' && e.stage === name && e.status === 'done' && e.engine === engine)
        ).toBe(true);
      }
    }, 300_000);

  it("a run with student.method trains its stage 1 on ONNX Runtime under 'auto' and records it", async () => {
    const base = tinyConfig({ name: 'method', teacher: { ...tinyConfig().teacher, source: null } });
    const method = {
      feature: true,
      logits: { temperature: 4, alpha: 0.9 },
      attention: { layers: ['conv1'], beta: 1000 }
    };
    const id = await createExperiment(tmp.path, { ...base, student: { ...base.student, method }, trainEngine: 'auto' });
    await runExperiment(tmp.path, id, {});
    const state = await readState(new ExperimentPaths(tmp.path, id));
    expect(state.stages['student stage 1']?.engine).toMatch(/^onnx cpu — \d+ threads?$/);
  }, 300_000);

  it("falls back under 'auto' naming the layer, fails under 'onnx'", async () => {
    const input = tf.input({ shape: [4, 4, 3] });
    const bn = tf.layers
      .gaussianNoise({ stddev: 0.1, name: 'bn' })
      .apply(tf.layers.conv2d({ filters: 2, kernelSize: 3, name: 'c' }).apply(input)) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 2, name: 'fc' }).apply(tf.layers.flatten().apply(bn)) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const opt = new MomentumSgd(0.9, 0);
    const spec = {
      name: 'bn stage',
      model,
      trainable: model.trainableWeights,
      objective: { kind: 'labels' as const, numClasses: 2 },
      opt,
      tapKernel: null,
      imageSize: 4
    };
    const choices: TrainEngineChoice[] = [];
    const stepper = await selectTrainEngine({ engine: 'auto', device: 'cpu', threads: 1 }, (c) => choices.push(c)).open(
      spec
    );
    expect(choices[0].kind).toBe('tfjs');
    expect(choices[0].note).toMatch(/onnx unavailable: .*layer 'bn' \(GaussianNoise\)/);
    const r = await stepper.step({
      x: new Float32Array(2 * 48).fill(0.5),
      labels: Int32Array.of(0, 1),
      n: 2,
      lr: 0.1,
      clipNorm: 0,
      seed: 1
    });
    expect(Number.isFinite(r.loss)).toBe(true);
    stepper.dispose();
    await expect(
      selectTrainEngine({ engine: 'onnx', device: 'cpu', threads: 1 }, () => undefined).open(spec)
    ).rejects.toThrow(/bn stage: engine onnx: .*'bn'/);
    opt.dispose();
    model.dispose();
  });

  it("trains student.method's logit and attention terms on ONNX Runtime under 'auto'", async () => {
    const arch = { ...ARCHITECTURE_PRESETS['vgg-small'], inputSize: 8 };
    const teacher = buildNetwork(arch, 2, 1);
    const model = buildNetwork(arch, 2, 2);
    const method = {
      feature: true,
      logits: { temperature: 4, alpha: 0.9 },
      attention: { layers: ['conv1'], beta: 1000 }
    };
    const opt = new MomentumSgd(0.9, 0);
    const spec = {
      name: 'student stage 1',
      model,
      trainable: model.trainableWeights,
      objective: distillObjective({ student: model, teacher, tap: 'conv', method, classes: 2, scale: 1 }),
      opt,
      tapKernel: null,
      imageSize: 8
    };
    const choices: TrainEngineChoice[] = [];
    const stepper = await selectTrainEngine({ engine: 'auto', device: 'cpu', threads: 1 }, (c) => choices.push(c)).open(
      spec
    );
    expect(choices.map((c) => c.kind)).toEqual(['onnx']);
    const r = await stepper.step({
      x: new Float32Array(2 * 8 * 8 * 3).fill(0.5),
      labels: Int32Array.of(0, 1),
      n: 2,
      lr: 0.1,
      clipNorm: 0,
      seed: 1
    });
    expect(Number.isFinite(r.loss)).toBe(true);
    stepper.dispose();
    opt.dispose();
    model.dispose();
    teacher.dispose();
  });
});
