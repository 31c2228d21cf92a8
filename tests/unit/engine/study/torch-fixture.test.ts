/*
 * The PyTorch fixture (scripts/make-study-fixture.py): a teacher, a student and a baseline trained
 * in torch, exported per analysed epoch to ONNX, found by the folder convention and analysed end to
 * end. Accuracies are checked against torch's own, path lengths against the training's log.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { readConfig, readState } from '../../../../src/engine/experiment/record';
import { createStudyExperiment } from '../../../../src/engine/study/analyse';
import type { MetricsDocument } from '../../../../src/common/metrics';

const FIXTURE = join(__dirname, '../../../fixtures/study');

describe('a study of networks trained in PyTorch', () => {
  const tmp = tempDir();
  const ws = tmp.path;
  let id = '';
  let metrics: MetricsDocument;

  beforeAll(async () => {
    await useBackend('wasm');
    cpSync(join(FIXTURE, 'dataset'), join(ws, 'datasets', 'torch-shapes'), { recursive: true });
    id = (await createStudyExperiment(ws, FIXTURE)).id;
    metrics = await runExperiment(ws, id);
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('finds the networks by the folder convention', async () => {
    const c = await readConfig(new ExperimentPaths(ws, id));
    const nets = c.study!.networks;
    expect(nets.map((n) => [n.net, n.role, n.checkpoints.map((k) => k.epoch)])).toEqual([
      ['B', 'baseline', [0, 1, 2, 4, 6]],
      ['S', 'student', [0, 1, 2, 4, 6]],
      ['T', 'teacher', [20]]
    ]);
    expect(nets[1].final).toBe(join(FIXTURE, 'student', 'final.onnx'));
  });

  it("reports torch's validation accuracy of each final network", () => {
    const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')).accuracy;
    expect(metrics.networks.T.accuracy).toBeCloseTo(expected.teacher, 6);
    expect(metrics.networks.S.accuracy).toBeCloseTo(expected.student, 6);
    expect(metrics.networks.B.accuracy).toBeCloseTo(expected.baseline, 6);
  });

  it("takes the path length at each checkpoint from the training's log", () => {
    for (const [net, dir] of [
      ['S', 'student'],
      ['B', 'baseline']
    ]) {
      const log = new Map(
        readFileSync(join(FIXTURE, dir, 'path-length.csv'), 'utf8')
          .trim()
          .split('\n')
          .slice(1)
          .map((l) => l.split(',').map(Number) as [number, number])
      );
      expect(metrics.networks[net].perCheckpoint.map((c) => [c.epoch, c.pathLength])).toEqual(
        [0, 1, 2, 4, 6].map((e) => [e, log.get(e)])
      );
    }
    expect(metrics.study?.pathLengthNote).toBeNull();
  });

  it('quantifies every checkpoint on the ONNX engine and writes the experiment files', async () => {
    const p = new ExperimentPaths(ws, id);
    for (const e of [0, 1, 2, 4, 6]) expect(existsSync(p.maps('S', `epoch-${e}`).npy)).toBe(true);
    expect(existsSync(p.maps('T', 'final').npy)).toBe(true);
    const state = await readState(p);
    expect(state.status).toBe('finished');
    expect(state.quantification?.engines.every((e) => e.startsWith('onnx'))).toBe(true);
    expect(metrics.study?.pairs.map((x) => [x.student, x.baseline])).toEqual([['S', 'B']]);
    expect(metrics.checks?.map((c) => c.id)).toContain('teacher-beats-baseline');
  });
});
