/*
 * Several students and a baseline in one study: seeds of one method form a group, every student
 * is compared with the baseline, the methods are ranked; a study stopped during quantification
 * resumes without redoing finished checkpoints.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { readState, readConfig } from '../../../../src/engine/experiment/record';
import { createStudyExperiment } from '../../../../src/engine/study/analyse';
import { rankValues } from '../../../../src/engine/study/metrics';
import type { MetricsDocument } from '../../../../src/common/metrics';
import type { ExperimentEvent } from '../../../../src/common/events';

const FIX = join(__dirname, '../../../fixtures/study');
const series = (dir: string): Record<string, string> =>
  Object.fromEntries([0, 1, 2, 4, 6].map((e) => [String(e), join(FIX, dir, `epoch-${e}.onnx`)]));
const net = (role: string, name: string, dir: string, method?: string) => ({
  role,
  name,
  ...(method ? { method } : {}),
  checkpoints: series(dir),
  pathLength: join(FIX, dir, 'path-length.csv')
});

describe('a study of several students, stopped and resumed', () => {
  const tmp = tempDir();
  const ws = tmp.path;
  let id = '';
  let metrics: MetricsDocument;
  const first: ExperimentEvent[] = [];
  const second: ExperimentEvent[] = [];

  beforeAll(async () => {
    await useBackend('wasm');
    cpSync(join(FIX, 'dataset'), join(ws, 'datasets', 'torch-shapes'), { recursive: true });
    const file = join(ws, 'study.json');
    writeFileSync(
      file,
      JSON.stringify({
        dataset: 'torch-shapes',
        name: 'several',
        tap: '/fc1/Gemm',
        normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
        quantification: { grid: 4, samples: 4, steps: 10, images: 4, batch: 4, stopPastTarget: false },
        workers: 1,
        networks: [
          { role: 'teacher', name: 'teacher', checkpoints: { '20': join(FIX, 'teacher/epoch-20.onnx') } },
          net('student', 'feature seed 0', 'student', 'feature'),
          net('student', 'feature seed 1', 'student', 'feature'),
          // A "method" that is the baseline's own series: it must tie with the baseline everywhere.
          net('student', 'copy', 'baseline'),
          net('baseline', 'baseline', 'baseline')
        ]
      })
    );
    id = (await createStudyExperiment(ws, file)).id;
    const stop = new AbortController();
    await expect(
      runExperiment(ws, id, {
        signal: stop.signal,
        onEvent: (e) => {
          first.push(e);
          if (e.type === 'concepts' && first.filter((x) => x.type === 'concepts').length === 3) stop.abort();
        }
      })
    ).rejects.toThrow(/cancelled/);
    metrics = await runExperiment(ws, id, { onEvent: (e) => second.push(e) });
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('numbers seeds of a method and methods of a role', async () => {
    const c = await readConfig(new ExperimentPaths(ws, id));
    expect(c.study!.networks.map((n) => [n.net, n.method])).toEqual([
      ['T', 'teacher'],
      ['S', 'feature'],
      ['S-1', 'feature'],
      ['S2', 'copy'],
      ['B', 'baseline']
    ]);
    expect(c.seeds).toBe(1);
  });

  it('resumes where it stopped: finished checkpoints are not quantified again', async () => {
    const done = (events: ExperimentEvent[]) =>
      events
        .filter((e): e is ExperimentEvent & { type: 'concepts' } => e.type === 'concepts')
        .map((e) => `${e.net}/${e.epoch}`);
    expect(done(first)).toHaveLength(3);
    expect(done(second)).toHaveLength(1 + 4 * 5 - 3);
    expect(done(second).filter((k) => done(first).includes(k))).toEqual([]);
    expect((await readState(new ExperimentPaths(ws, id))).status).toBe('finished');
    // Progress names the network and checkpoint of each running task, with that task's own ETA.
    const texts = [...first, ...second].flatMap((e) => (e.type === 'progress' ? [e.text] : []));
    expect(texts.some((t) => /— (T\/final|S\/epoch-0) \d+%/.test(t))).toBe(true);
    expect(texts.some((t) => /— [TSB][-\d]*\/(final|epoch-\d+) \d+%, \d+ s left/.test(t))).toBe(true);
  });

  it('compares every student with the baseline and ranks the methods', () => {
    const s = metrics.study!;
    expect(s.pairs.map((p) => [p.student, p.baseline])).toEqual([
      ['S', 'B'],
      ['S-1', 'B'],
      ['S2', 'B']
    ]);
    // Identical series, identical image noise: identical numbers.
    expect(metrics.networks['S-1'].perImage).toEqual(metrics.networks.S.perImage);
    expect(metrics.networks.S2.perImage).toEqual(metrics.networks.B.perImage);
    const copy = s.ranking.find((r) => r.method === 'copy')!;
    const base = s.ranking.find((r) => r.method === 'baseline')!;
    expect(s.ranking.find((r) => r.method === 'feature')!.nets).toEqual(['S', 'S-1']);
    expect(copy.values).toEqual(base.values);
    expect(copy.ranks).toEqual(base.ranks);
    const pairCopy = s.pairs[2];
    expect(pairCopy.components.every((c) => c.outcome === 'not significant')).toBe(true);
  });

  it('ranks with shared ranks for ties and none for missing values (hand-worked)', () => {
    expect(rankValues([3, 1, 3, null, 2], true)).toEqual([1.5, 4, 1.5, null, 3]);
    expect(rankValues([3, 1, 3, null, 2], false)).toEqual([3.5, 1, 3.5, null, 2]);
  });
});
