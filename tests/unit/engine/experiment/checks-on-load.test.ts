import { describe, it, expect, afterAll } from 'vitest';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { tempDir } from '../../../helpers/fixtures';
import { tinyConfig } from '../../../helpers/tiny-config';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { loadMetricsWithChecks } from '../../../../src/engine/experiment/checks-on-load';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import sharp from 'sharp';
import { join } from 'node:path';
import type { MetricsDocument } from '../../../../src/common/metrics';
import { metricsFixture } from '../../renderer/metrics-fixture';

const verdict = { result: 'supported' as const, details: 'supported: claim — stats', components: [] };

/** A metrics.json of a run made before the checks (no `checks`), with the given accuracies and 24 analysed images. */
function oldDocument(accuracy: Record<'T' | 'S' | 'B', number>): MetricsDocument {
  const doc = metricsFixture();
  delete doc.checks;
  doc.settings.images = 24;
  const image = doc.networks.S.perImage[0];
  for (const [net, value] of Object.entries(accuracy)) {
    const n = doc.networks[net];
    Object.assign(n, {
      accuracy: value,
      images: 24,
      neverLearned: 2,
      perCheckpoint: [{ ...n.perCheckpoint[0], conceptFraction: 0.2 }],
      perImage: Array.from({ length: 24 }, (_, index) => ({ ...image, index }))
    });
  }
  doc.verdicts = { H1: verdict, H2: verdict, H3: verdict };
  doc.verdictsPerSeed = [{ H1: verdict, H2: verdict, H3: verdict }];
  return doc;
}

describe('checks for a run made before metrics.json had them', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('computes them from the stored numbers on load and folds them into the verdicts, without rewriting the file', async () => {
    const paths = new ExperimentPaths(tmp.path, 'old-run');
    mkdirSync(paths.root, { recursive: true });
    const old = oldDocument({ T: 0.525, S: 0.45, B: 0.783 });
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
      JSON.stringify({
        ...oldDocument({ T: 0.9, S: 0.8, B: 0.41 }),
        settings: { ...oldDocument({ T: 0, S: 0, B: 0 }).settings, images: 2 }
      })
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

  it('leaves a document that already has checks as it is, and names the file and field of a broken one', async () => {
    const paths = new ExperimentPaths(tmp.path, 'new-run');
    mkdirSync(paths.root, { recursive: true });
    const withChecks = { ...oldDocument({ T: 0.9, S: 0.8, B: 0.41 }), checks: [] };
    writeFileSync(paths.metrics, JSON.stringify(withChecks));
    expect(await loadMetricsWithChecks(tmp.path, paths, tinyConfig())).toEqual(withChecks);
    writeFileSync(paths.metrics, JSON.stringify({ ...withChecks, networks: 'broken' }));
    await expect(loadMetricsWithChecks(tmp.path, paths, tinyConfig())).rejects.toThrow(/metrics\.json: field networks/);
  });
});
