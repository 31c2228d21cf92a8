import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';
import { tf } from '../../../../src/engine/tf/backend';
import { probeSource } from '../../../../src/engine/experiment/probe';

describe('the pre-launch probe: does the source help?', () => {
  const tmp = tempDir();
  const ws = tmp.path;
  beforeAll(async () => {
    await useBackend('wasm');
    await writeTinyDataset(ws, 'tiny', { seed: 1, perClass: 10, valPerClass: 4 });
    await writeTinyDataset(ws, 'tiny-source', { seed: 2, perClass: 12, valPerClass: 0 });
  }, 60_000);
  afterAll(() => tmp.cleanup());

  it('trains a few epochs of each on the real engine and says whether the teacher leads, with the numbers', async () => {
    const tensors = tf.memory().numTensors;
    const config = tinyConfig();
    const lines: string[] = [];
    const a = await probeSource(ws, config, { onProgress: (t) => lines.push(t) });
    expect(tf.memory().numTensors).toBe(tensors);
    // tinyConfig: pretrain 2, fine-tune 2, baseline 3 epochs: min(2, 2) and min(3, 2, 3).
    expect([a.pretrainEpochs, a.epochs, a.sourceImages]).toEqual([2, 2, 36]);
    expect(a.evaluatedOn).toBe('validation');
    for (const v of [a.teacher, a.baseline]) {
      // 12 validation images: accuracies are multiples of 1/12.
      expect(Math.round(v * 12)).toBeCloseTo(v * 12, 9);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(1);
    }
    expect(a.helps).toBe(a.teacher > a.baseline);
    const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;
    expect(a.message).toContain(`reaches ${pct(a.teacher)} against the baseline's ${pct(a.baseline)}`);
    expect(a.message).toMatch(a.helps ? /the source helps$/ : /does not help/);
    expect(lines[0]).toBe("probe: loading 'tiny'");
    // Seeded: the same numbers again.
    const b = await probeSource(ws, config);
    expect([b.teacher, b.baseline]).toEqual([a.teacher, a.baseline]);
  }, 120_000);

  it('a teacher that barely trains does not help: the probe warns', async () => {
    const config = tinyConfig({
      teacher: {
        source: 'tiny-source',
        pretrained: null,
        pretrain: { epochs: 1, lr: 1e-7, lrEnd: 1e-7, batchSize: 8 },
        finetune: { epochs: 4, lr: 1e-7, lrEnd: 1e-7, batchSize: 8 }
      },
      baseline: { epochs: 4, lr: 0.05, lrEnd: 0.01, batchSize: 8 }
    });
    const r = await probeSource(ws, config);
    expect(r.epochs).toBe(3);
    expect(r.helps).toBe(false);
    expect(r.message).toMatch(/does not help; the run would likely stop at teacher-beats-baseline/);
  }, 120_000);

  it('refuses a configuration without a source or pretrained teacher', async () => {
    const config = tinyConfig({ teacher: { ...tinyConfig().teacher, source: null } });
    await expect(probeSource(ws, config)).rejects.toThrow(/has neither/);
  });
});
