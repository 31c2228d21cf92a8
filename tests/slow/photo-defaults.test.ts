/*
 * The defaults for a user's own data on real photographs (issue 9): slow (a full run, about 15
 * minutes on 2 cores), so it runs only with KD_LENS_PHOTO_RUN=1 and Debian's mate-backgrounds
 * photos installed (see tests/helpers/photo-dataset.ts). The teacher must beat the baseline and no
 * protocol check may fail at the defaults.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { useBackend } from '../helpers/tf';
import { tempDir } from '../helpers/fixtures';
import { writePhotoDataset, photosAvailable } from '../helpers/photo-dataset';
import { createExperiment, runExperiment } from '../../src/engine/experiment/runner';
import { defaultConfig, mergeConfig } from '../../src/common/defaults';
import { poolExecutor } from '../../src/host/quantify-pool';
import { formatResults } from '../../src/cli/experiment-view';

const asked = process.env.KD_LENS_PHOTO_RUN === '1';
// Asked for (as CI does) but without the photos: fail, do not pass by skipping.
if (asked && !photosAvailable())
  throw new Error(
    'KD_LENS_PHOTO_RUN=1 but the photos are missing: apt-get install mate-backgrounds (or set KD_LENS_PHOTOS)'
  );
const enabled = asked;

describe.skipIf(!enabled)('own-dataset defaults on a natural-photo dataset', () => {
  const tmp = tempDir();
  afterAll(() => {
    if (!process.env.KD_LENS_KEEP) tmp.cleanup();
  });

  it('the teacher beats the baseline and no check fails', async () => {
    await useBackend('wasm');
    const ws = process.env.KD_LENS_KEEP ?? tmp.path;
    await writePhotoDataset(ws, 'photo', {
      perClass: Number(process.env.KD_LENS_PER_CLASS ?? 24),
      valPerClass: 30,
      half: 'lower',
      seed: 1
    });
    await writePhotoDataset(ws, 'photo-source', {
      perClass: 300,
      valPerClass: 0,
      half: 'upper',
      seed: 2
    });
    const config = mergeConfig(defaultConfig('photo'), {
      teacher: { source: 'photo-source', pretrain: { epochs: 8 } },
      seeds: Number(process.env.KD_LENS_SEEDS ?? 1)
    });
    const id = await createExperiment(ws, config);
    const t0 = Date.now();
    const metrics = await runExperiment(ws, id, {
      executor: poolExecutor(2)
    });
    process.stdout.write(`${formatResults(metrics)}\nphoto run ${id}: ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    expect(metrics.summary.teacher.accuracy!).toBeGreaterThan(metrics.summary.baseline.accuracy!);
    expect(metrics.checks.filter((c) => c.status === 'fail')).toEqual([]);
  }, 3_600_000);
});
