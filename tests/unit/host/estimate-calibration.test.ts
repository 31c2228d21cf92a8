/*
 * One estimator, one number: estimates asked at the same time (the demo buttons and the form on the
 * first screen) share one calibration per configuration, and calibrations never run at the same
 * time (two timed together slowed each other: 11 and 18 minutes for the same demo, both 2-3x the
 * truth). Without a finished run the estimate says it is a first one.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createService } from '../../../src/host/service';
import type { JobManager } from '../../../src/host/jobs';
import type { Calibration } from '../../../src/engine/estimate';
import { estimateProbe } from '../../../src/engine/estimate-extras';
import { loadDataset } from '../../../src/engine/data';
import type { RunConfig } from '../../../src/common/config';
import { tempDir } from '../../helpers/fixtures';
import { writeTinyDataset } from '../../helpers/tiny-dataset';
import { tinyConfig } from '../../helpers/tiny-config';

const CAL: Calibration = {
  backend: 'wasm',
  trainStepMs: 10,
  stage1StepMs: 5,
  stage2StepMs: 4,
  batch: 8,
  quantStepMsPerImage: 2,
  samples: 8,
  quantEngine: 'onnx cpu — 1 thread',
  quantSetupMs: 50
};

describe('the estimate service', () => {
  const tmp = tempDir('kd-lens-estimate-');
  let running = 0;
  let most = 0;
  const calls: string[] = [];
  const service = () =>
    createService({
      workspace: tmp.path,
      shell: 'browser',
      version: 't',
      jobs: {} as JobManager,
      emit: () => undefined,
      backend: () => ({ name: 'wasm', reason: 'test' }),
      calibrate: async (config: RunConfig) => {
        calls.push(config.name);
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        return CAL;
      }
    });

  beforeAll(async () => {
    await writeTinyDataset(tmp.path, 'tiny');
    await writeTinyDataset(tmp.path, 'tiny-source');
  });
  afterAll(() => tmp.cleanup());

  it('shares one calibration between callers, runs one at a time, and gives one number', async () => {
    const s = service();
    const demo = tinyConfig({ name: 'button' });
    const form = { ...tinyConfig({ name: 'form' }) };
    const quick = tinyConfig({
      name: 'quick',
      quantification: { ...demo.quantification, samples: demo.quantification.samples * 2 }
    });
    const [a, b, c] = await Promise.all([
      s.estimate({ config: demo }),
      s.estimate({ config: form }),
      s.estimate({ config: quick })
    ]);
    // One calibration for the two equal configurations (whichever asked first) and one for the other.
    expect(calls).toHaveLength(2);
    expect(calls.filter((n) => n === 'button' || n === 'form')).toHaveLength(1);
    expect(calls).toContain('quick');
    expect(most).toBe(1);
    expect(a.seconds).toBe(b.seconds);
    expect(c.seconds).toBeGreaterThan(a.seconds);
    expect([a.refined, a.basis]).toEqual([
      false,
      expect.stringMatching(/no finished run on this machine yet to refine it$/)
    ]);
  });

  it("carries the pre-launch probe's time for a teacher from a source set, none without one", async () => {
    const s = service();
    const config = tinyConfig({ name: 'button' });
    const train = async (id: string) =>
      (await loadDataset(tmp.path, id)).samples.filter((x) => x.split === 'train').length;
    const counts = { targetTrain: await train('tiny'), sourceTrain: await train('tiny-source') };
    const withSource = await s.estimate({ config });
    expect(withSource.probe).toBeGreaterThan(0);
    expect(withSource.probe).toBeCloseTo(estimateProbe(config, counts, CAL)!, 10);
    const none = await s.estimate({ config: { ...config, teacher: { ...config.teacher, source: null } } });
    expect(none.probe).toBeNull();
  });
});
