import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tempDir } from '../../../helpers/fixtures';
import { tinyConfig } from '../../../helpers/tiny-config';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { loadMetricsWithChecks } from '../../../../src/engine/experiment/checks-on-load';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import sharp from 'sharp';
import { join } from 'node:path';

const net = (accuracy: number) => ({
  net: 'x',
  images: 24,
  accuracy,
  removed: { notEffective: 0, noForeground: 0, backgroundFilter: 0 },
  noBackground: 0,
  neverLearned: 2,
  perCheckpoint: [{ epoch: 0, conceptFraction: 0.2 }],
  perImage: Array.from({ length: 24 }, (_, index) => ({ index })),
  N_fg: 1
});
const verdict = {
  result: 'supported',
  details: 'supported: claim — stats',
  components: []
};

describe('checks for a run made before metrics.json had them', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('computes them from the stored numbers on load and folds them into the verdicts, without rewriting the file', async () => {
    const paths = new ExperimentPaths(tmp.path, 'old-run');
    mkdirSync(paths.root, { recursive: true });
    const old = {
      settings: { images: 24, seeds: 1 },
      networks: { T: net(0.525), S: net(0.45), B: net(0.783) },
      verdicts: { H1: verdict, H2: verdict, H3: verdict },
      verdictsPerSeed: [{ H1: verdict, H2: verdict, H3: verdict }]
    };
    writeFileSync(paths.metrics, JSON.stringify(old));
    const loaded = (await loadMetricsWithChecks(tmp.path, paths, tinyConfig())) as {
      checks: { id: string; status: string }[];
      verdicts: Record<string, { meaningful: boolean; details: string }>;
    };
    expect(loaded.checks.find((c) => c.id === 'teacher-beats-baseline')?.status).toBe('fail');
    // No dataset in this workspace and no distill.json: those checks are left out.
    expect(
      loaded.checks.some(
        (c) => c.id === 'student-learns' || c.id === 'student-mimics-teacher' || c.id === 'foreground-coverage'
      )
    ).toBe(false);
    expect(loaded.verdicts.H2.meaningful).toBe(false);
    expect(loaded.verdicts.H2.details).toBe(
      'not meaningful: the teacher is weaker than the baseline — supported: claim — stats'
    );
    expect(JSON.parse(readFileSync(paths.metrics, 'utf8'))).toEqual(old);
  });

  it('measures foreground coverage and chance from the dataset when it is still there', async () => {
    const ws = join(tmp.path, 'with-data');
    const manifest = await writeTinyDataset(ws, 'tiny', { seed: 1, classes: 3 });
    // Two analysed images with known 16 x 16 masks: the top half (share 0.5 on the 4 x 4 grid), and all (1).
    const [a, b] = manifest.samples;
    const half = Buffer.from(Array.from({ length: 256 }, (_, p) => (p < 128 ? 255 : 0)));
    await sharp(half, { raw: { width: 16, height: 16, channels: 1 } })
      .png()
      .toFile(join(ws, 'datasets', 'tiny', a.mask));
    await sharp(Buffer.alloc(256, 255), { raw: { width: 16, height: 16, channels: 1 } })
      .png()
      .toFile(join(ws, 'datasets', 'tiny', b.mask));
    const paths = new ExperimentPaths(ws, 'old-run');
    mkdirSync(paths.root, { recursive: true });
    writeFileSync(paths.images, JSON.stringify({ seed: 3, ids: [a.id, b.id], count: 2 }));
    writeFileSync(
      paths.metrics,
      JSON.stringify({ settings: { images: 2 }, networks: { T: net(0.9), S: net(0.8), B: net(0.41) } })
    );
    const loaded = (await loadMetricsWithChecks(ws, paths, tinyConfig())) as {
      checks: { id: string; net?: string; status: string; value: number }[];
    };
    const coverage = loaded.checks.find((c) => c.id === 'foreground-coverage')!;
    expect(coverage.value).toBeCloseTo(0.75, 12);
    expect(coverage.status).toBe('ok');
    // 3 classes: the limit is 1.25 / 3 = 0.4167, so B at 0.41 has not learned.
    expect(loaded.checks.find((c) => c.id === 'student-learns' && c.net === 'B')?.status).toBe('fail');
    expect(loaded.checks.find((c) => c.id === 'student-learns' && c.net === 'S')?.status).toBe('ok');
  });

  it('leaves a document that already has checks, or cannot be checked, as it is', async () => {
    const paths = new ExperimentPaths(tmp.path, 'new-run');
    mkdirSync(paths.root, { recursive: true });
    writeFileSync(paths.metrics, JSON.stringify({ checks: [], verdicts: {} }));
    expect(await loadMetricsWithChecks(tmp.path, paths, tinyConfig())).toEqual({
      checks: [],
      verdicts: {}
    });
    writeFileSync(paths.metrics, JSON.stringify({ networks: 'broken' }));
    expect(await loadMetricsWithChecks(tmp.path, paths, tinyConfig())).toEqual({
      networks: 'broken'
    });
  });
});
