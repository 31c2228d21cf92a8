/*
 * The time estimate of an ONNX-architecture run (onnx-arch-estimate.ts): its calibration times the
 * run's own compiled steps on ONNX Runtime (real steps of the tiny fixture graph, each timed part
 * run for real), and the seconds per stage are the hand count of images x epochs at the timed step
 * (given by a timer that still runs each step once).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { prepareOnnxRun, type PreparedOnnxRun } from '../../../../src/engine/onnx/onnx-arch-run';
import {
  calibrateOnnxArch,
  estimateOnnxRun,
  medianTimer,
  type PartTimer,
  type TimedPart
} from '../../../../src/engine/onnx/onnx-arch-estimate';
import { OnnxRunConfigSchema, type OnnxRunConfig } from '../../../../src/common/config';
import { parseWith } from '../../../../src/common/schema';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';

const FILE = join(__dirname, '../../../fixtures/onnx-arch/tiny-arch.onnx');

describe('the time estimate of an ONNX-architecture run', () => {
  const tmp = tempDir('kd-onnx-estimate-');
  const ws = tmp.path;
  const model = join(ws, 'models', 'tiny-arch.onnx');
  afterAll(() => tmp.cleanup());
  const config = (over: Record<string, unknown> = {}): OnnxRunConfig => {
    const { architecture: _a, tap: _t, ...rest } = tinyConfig({ name: 'estimate' });
    return parseWith(
      OnnxRunConfigSchema,
      {
        ...rest,
        architecture: { onnx: model, classifier: null },
        tap: '/Relu_1',
        teacher: { ...rest.teacher, source: null, pretrained: null },
        ...over
      },
      'configuration'
    );
  };
  const prepare = (c: OnnxRunConfig): Promise<PreparedOnnxRun> =>
    prepareOnnxRun({ workspace: ws, config: c, onnx: model, classifier: null, tap: c.tap, teacher: null });
  beforeAll(async () => {
    // 3 classes, 8 training images each (24), 16 px as the fixture's input.
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    mkdirSync(join(ws, 'models'));
    copyFileSync(FILE, model);
  });

  it('times real steps of the network’s own step graphs, a warm-up first', async () => {
    const calls: { part: TimedPart; ms: number }[] = [];
    let runs = 0;
    const timer: PartTimer = async (part, run) => {
      const counted = async (): Promise<void> => {
        runs++;
        await run();
      };
      const ms = await medianTimer(part, counted);
      calls.push({ part, ms });
      return ms;
    };
    const cal = await calibrateOnnxArch(await prepare(config()), { timer });
    expect(calls.map((c) => c.part)).toEqual([
      'open train',
      'train',
      'open stage 1',
      'stage 1',
      'open stage 2',
      'stage 2',
      'set-up',
      'sigma step'
    ]);
    // Each step graph opened once, then 1 warm-up + 3 timed steps; 1 + 2 set-ups; 1 + 3 sigma steps.
    expect(runs).toBe(3 * (1 + 4) + 3 + 4);
    const ms = Object.fromEntries(calls.map((c) => [c.part, c.ms]));
    expect(cal.stageOpenMs).toEqual({
      train: ms['open train'],
      stage1: ms['open stage 1'],
      stage2: ms['open stage 2']
    });
    expect(cal.trainStepMs).toBe(ms.train);
    expect(cal.stage1StepMs).toBe(ms['stage 1']);
    expect(cal.stage2StepMs).toBe(ms['stage 2']);
    expect(cal.quantSetupMs).toBe(ms['set-up']);
    // The quantification batch is 2 images per step.
    expect(cal.quantStepMsPerImage).toBeCloseTo(ms['sigma step'] / 2, 12);
    for (const v of Object.values(ms)) expect(v).toBeGreaterThan(0);
    expect(cal.batch).toBe(8);
    expect(cal.trainEngine).toMatch(/^onnx cpu — \d+ threads?/);
    expect(cal.quantEngine).toMatch(/^onnx cpu/);
  });

  it('counts epochs x images per stage at the timed steps, and quantification as a built-in run', async () => {
    const fixed: Record<TimedPart, number> = {
      'open train': 20,
      train: 10,
      'open stage 1': 30,
      'stage 1': 4,
      'open stage 2': 5,
      'stage 2': 2,
      'sigma step': 6,
      'set-up': 50
    };
    const timer: PartTimer = async (part, run) => {
      await run(); // a real step (or set-up), but the time is given
      return fixed[part];
    };
    const c = config({ seeds: 2 });
    const cal = await calibrateOnnxArch(await prepare(c), { timer });
    const e = estimateOnnxRun(c, { counts: { targetTrain: 24, sourceTrain: 0 }, cal, cpus: 2 });
    // Hand count, batch 8, 24 training images, overhead 1.2 per step, each stage opened once:
    //   fine-tune 2 epochs: 1.2 * 2 * 24 / 8 steps * 10 ms + 20 ms = 0.092 s
    //   stage 1, 3 epochs, 2 seeds: 2 * (1.2 * 3 * 3 * 4 ms + 30 ms) = 0.1464 s
    //   stage 2, 1 epoch, 2 seeds: 2 * (1.2 * 1 * 3 * 2 ms + 5 ms) = 0.0244 s
    //   baseline, 3 epochs, 2 seeds: 2 * (1.2 * 3 * 3 * 10 ms + 20 ms) = 0.256 s
    //   quantify: checkpoints 0..3 of S and of B per seed + T = 17 networks x 4 images = 68 maps
    //     of 2 + 2 sigma steps at 3 ms per image; 17 x 2 tasks of 50 ms; 1 worker:
    //     (68 * 4 * 3 + 34 * 50) / 1000 = 2.516 s
    expect(e.stages['teacher finetune']).toBeCloseTo(0.092, 12);
    expect(e.stages['student stage 1']).toBeCloseTo(0.1464, 12);
    expect(e.stages['student stage 2']).toBeCloseTo(0.0244, 12);
    expect(e.stages.baseline).toBeCloseTo(0.256, 12);
    expect(e.stages.quantify).toBeCloseTo(2.516, 12);
    expect(Object.keys(e.stages).sort()).toEqual(
      ['baseline', 'quantify', 'student stage 1', 'student stage 2', 'teacher finetune'].sort()
    );
    expect(e.seconds).toBeCloseTo(0.092 + 0.1464 + 0.0244 + 0.256 + 2.516, 12);
    expect(e.probe).toBeNull();
  });
});
