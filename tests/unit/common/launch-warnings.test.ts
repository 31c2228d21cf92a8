import { describe, it, expect } from 'vitest';
import { launchWarnings } from '../../../src/common/launch-warnings';
import { defaultConfig, demoConfig, mergeConfig, withDefaultSeeds } from '../../../src/common/defaults';
import type { RunConfig } from '../../../src/common/config';

const checks = (c: RunConfig): string[] => launchWarnings(c).map((w) => w.check);

describe('warnings before launch for configurations known to fail a check', () => {
  it('the demo has none', () => {
    expect(launchWarnings(demoConfig())).toEqual([]);
  });

  it('a teacher without a source or pretrained weights is trained like the baseline', () => {
    const own = defaultConfig('birds');
    expect(launchWarnings(own)[0].message).toContain('the teacher is trained like the baseline; expect no difference');
    expect(
      checks(
        mergeConfig(own, {
          teacher: { source: 'imagenet-ish', pretrain: { epochs: 8 } }
        })
      )
    ).toEqual([]);
    expect(checks(mergeConfig(own, { teacher: { pretrained: '/models/t' } }))).toEqual([]);
    expect(
      checks(
        mergeConfig(own, {
          teacher: { source: 'imagenet-ish', pretrain: { epochs: 0 } }
        })
      )
    ).toEqual(['teacher-beats-baseline']);
  });

  it('names no stage 1, too few images and the plain MSE', () => {
    const d = demoConfig();
    expect(checks(mergeConfig(d, { student: { stage1: { epochs: 0 } } }))).toEqual(['student-mimics-teacher']);
    expect(checks(mergeConfig(d, { quantification: { images: 19 } }))).toEqual(['sample-size']);
    expect(checks(mergeConfig(d, { quantification: { images: 20 } }))).toEqual([]);
    expect(checks(mergeConfig(d, { student: { lossNormalization: 'mse' } }))).toEqual(['training-diverged']);
  });
});

describe('workers beyond the core count', () => {
  it('warns for 64 workers on 2 cores, not for 2, and not where the machine is not known', () => {
    const many = { ...demoConfig(), workers: 64 };
    expect(launchWarnings(many, { cpus: 2 }).map((w) => w.message)).toEqual([
      '64 workers on 2 cores: workers beyond the core count share them and only add memory and start-up time; use at most 2'
    ]);
    expect(launchWarnings(demoConfig(), { cpus: 2 })).toEqual([]);
    expect(launchWarnings(many)).toEqual([]);
  });
});

describe('seeds by default where the estimate fits', () => {
  it('takes 3 seeds when the estimate is at most 15 minutes, else keeps 1', async () => {
    const c = defaultConfig('birds');
    const seen: number[] = [];
    const at = (seconds: number) => async (x: RunConfig) => {
      seen.push(x.seeds);
      return seconds;
    };
    expect((await withDefaultSeeds(c, at(900))).seeds).toBe(3);
    expect((await withDefaultSeeds(c, at(901))).seeds).toBe(1);
    expect(seen).toEqual([3, 3]);
  });
});
