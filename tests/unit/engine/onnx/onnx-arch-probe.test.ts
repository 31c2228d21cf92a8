/*
 * The pre-launch probe of an ONNX-architecture run (onnx-arch-probe.ts): pretraining on the source,
 * fine-tuning and the baseline for a few epochs on the ONNX stages. Checked against the run itself:
 * when the probe's epochs are the run's (tinyConfig: pretrain 2, fine-tune 2) and the source is
 * smaller than the probe's subsample, the probe's teacher is the run's teacher, so its accuracy is
 * the run's 'teacher finetune' epoch-2 validation accuracy exactly, and each epoch's losses are the run's. A teacher from the file's weights
 * pretrains nothing; a configuration with neither is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { probeOnnxSource } from '../../../../src/engine/onnx/onnx-arch-probe';
import { OnnxRunConfigSchema, type OnnxRunConfig } from '../../../../src/common/config';
import { parseWith } from '../../../../src/common/schema';
import type { ExperimentEvent } from '../../../../src/common/events';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';

const FILE = join(__dirname, '../../../fixtures/onnx-arch/tiny-arch.onnx');

describe('the source probe of an ONNX-architecture run', () => {
  const tmp = tempDir('kd-onnx-probe-');
  const ws = tmp.path;
  const model = join(ws, 'models', 'tiny-arch.onnx');
  afterAll(() => tmp.cleanup());
  const config = (teacher: { source: string | null; pretrained: string | null }): Record<string, unknown> => {
    const { architecture: _a, tap: _t, ...rest } = tinyConfig({ name: 'probe' });
    return {
      ...rest,
      architecture: { onnx: model, classifier: null },
      tap: '/Relu_1',
      teacher: { ...rest.teacher, ...teacher }
    };
  };
  const parsed = (c: Record<string, unknown>): OnnxRunConfig => parseWith(OnnxRunConfigSchema, c, 'configuration');
  beforeAll(async () => {
    await useBackend('cpu');
    // Target: 3 classes, 8 training and 2 validation images each; source: 2 classes at 24 px.
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    await writeTinyDataset(ws, 'shapes2', { seed: 2, classes: 2, size: 24 });
    mkdirSync(join(ws, 'models'));
    copyFileSync(FILE, model);
  });

  it('pretrains on the source and fine-tunes as the run does: the run’s teacher accuracy, seeded', async () => {
    const c = config({ source: 'shapes2', pretrained: null });
    const lines: string[] = [];
    const logs: { stage: string; epoch: number; loss: number; valLoss: number | null }[] = [];
    const a = await probeOnnxSource(ws, parsed(c), {
      onProgress: (t) => lines.push(t),
      onEpoch: (stage, l) => logs.push({ stage, epoch: l.epoch, loss: l.loss, valLoss: l.valLoss ?? null })
    });
    expect([a.pretrainEpochs, a.epochs, a.sourceImages]).toEqual([2, 2, 16]);
    expect(a.evaluatedOn).toBe('validation');
    expect(lines).toEqual([
      "probe: loading 'tiny'",
      "probe: pretraining 2 epoch(s) on 'shapes2'",
      'probe: fine-tuning the teacher 2 epoch(s) and training the baseline 2 epoch(s)'
    ]);
    for (const v of [a.teacher, a.baseline]) {
      // 6 validation images: accuracies are multiples of 1/6.
      expect(Math.round(v * 6)).toBeCloseTo(v * 6, 9);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(a.helps).toBe(a.teacher > a.baseline);
    const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
    expect(a.message).toContain(
      `the teacher from the source 'shapes2' (2 epoch(s) on 16 images) reaches ${pct(a.teacher)} against the baseline's ${pct(a.baseline)} (validation accuracy)`
    );
    // The run's own teacher: the same stages, seeds and epochs.
    const events: ExperimentEvent[] = [];
    await runExperiment(ws, await createExperiment(ws, c), { onEvent: (e) => events.push(e) });
    const finetune = events.flatMap((e) =>
      e.type === 'epoch' && e.net === 'T' && e.stage === 'teacher finetune' ? [e] : []
    );
    expect(finetune.map((e) => e.epoch)).toEqual([1, 2]);
    expect(a.teacher).toBe(finetune[1].valAccuracy);
    // Losses tell more than 6 images' accuracy: each fine-tune epoch's training and validation loss, to the bit.
    expect(logs.filter((l) => l.stage === 'probe fine-tune')).toEqual(
      finetune.map((e) => ({ stage: 'probe fine-tune', epoch: e.epoch, loss: e.loss, valLoss: e.valLoss }))
    );
    expect(logs.map((l) => l.stage)).toEqual([
      ...Array(2).fill('probe pretrain'),
      ...Array(2).fill('probe fine-tune'),
      ...Array(2).fill('probe baseline')
    ]);
    // Seeded: the same numbers again.
    const b = await probeOnnxSource(ws, parsed(c));
    expect([b.teacher, b.baseline]).toEqual([a.teacher, a.baseline]);
  }, 60_000);

  it('a teacher from the file’s weights pretrains nothing; neither source nor file is refused', async () => {
    const a = await probeOnnxSource(ws, parsed(config({ source: null, pretrained: model })));
    expect([a.pretrainEpochs, a.sourceImages, a.epochs]).toEqual([0, 0, 2]);
    expect(a.message).toContain(`the teacher from the pretrained teacher '${model}' reaches`);
    await expect(probeOnnxSource(ws, parsed(config({ source: null, pretrained: null })))).rejects.toThrow(
      /this configuration has neither/
    );
  }, 60_000);
});
