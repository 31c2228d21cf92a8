/*
 * Round trip: the checkpoints of a tiny KD Lens run, analysed as an external study (TF.js folders,
 * the run's own path-length log as CSV, the students' final network for accuracy), give the same
 * metrics.json numbers as the run itself.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, mkdirSync, cpSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { readPathLength, readConfig } from '../../../../src/engine/experiment/record';
import { createStudyExperiment } from '../../../../src/engine/study/analyse';
import type { MetricsDocument } from '../../../../src/common/metrics';
import { SIX } from '../../../../src/common/metrics';

describe('a KD Lens run analysed as a study', () => {
  const tmp = tempDir();
  const ws = tmp.path;
  let run: MetricsDocument;
  let study: MetricsDocument;
  let studyId = '';
  let byConvention: MetricsDocument;

  beforeAll(async () => {
    await useBackend('wasm');
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    const config = tinyConfig({
      teacher: { ...tinyConfig().teacher, source: null, pretrain: { ...tinyConfig().teacher.pretrain, epochs: 0 } }
    });
    const runId = await createExperiment(ws, config);
    run = await runExperiment(ws, runId);
    const p = new ExperimentPaths(ws, runId);
    const dir = join(ws, 'study');
    const rel = (f: string): string => relative(dir, f);
    const network = async (role: 'student' | 'baseline', net: string) => {
      const log = await readPathLength(p, net);
      const csv = join(ws, `${net}-path.csv`);
      writeFileSync(csv, ['epoch,path_length', ...log.checkpoints.map((c) => `${c.epoch},${c.pathLength}`)].join('\n'));
      return {
        role,
        name: net,
        checkpoints: Object.fromEntries(log.checkpoints.map((c) => [String(c.epoch), rel(p.checkpoint(net, c.epoch))])),
        final: rel(p.final(net)),
        pathLength: rel(csv)
      };
    };
    mkdirSync(dir);
    const file = join(dir, 'study.json');
    writeFileSync(
      file,
      JSON.stringify({
        dataset: 'tiny',
        name: 'round trip',
        tap: config.tap,
        normalization: config.normalization,
        seed: config.seed,
        workers: 1,
        quantification: config.quantification,
        networks: [
          { role: 'teacher', name: 'T', checkpoints: { [String(config.teacher.finetune.epochs)]: rel(p.final('T')) } },
          await network('student', 'S'),
          await network('baseline', 'B')
        ]
      })
    );
    studyId = (await createStudyExperiment(ws, file)).id;
    study = await runExperiment(ws, studyId);
    // The same networks by the folder convention: teacher/, student/, baseline/ with epoch-N/ TF.js folders.
    const conv = join(ws, 'by-convention');
    cpSync(p.final('T'), join(conv, 'teacher', `epoch-${config.teacher.finetune.epochs}`), { recursive: true });
    for (const [net, dir] of [
      ['S', 'student'],
      ['B', 'baseline']
    ]) {
      for (const c of (await readPathLength(p, net)).checkpoints)
        cpSync(p.checkpoint(net, c.epoch), join(conv, dir, `epoch-${c.epoch}`), { recursive: true });
      cpSync(p.final(net), join(conv, dir, 'final'), { recursive: true });
      cpSync(join(ws, `${net}-path.csv`), join(conv, dir, 'path-length.csv'));
    }
    const { networks: _, ...rest } = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(join(conv, 'study.json'), JSON.stringify(rest));
    byConvention = await runExperiment(ws, (await createStudyExperiment(ws, conv)).id);
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('freezes the study source into config.json', async () => {
    const c = await readConfig(new ExperimentPaths(ws, studyId));
    expect(c.study?.tap).toBe('fc1');
    expect(c.study?.networks.map((n) => n.net)).toEqual(['T', 'S', 'B']);
    expect(c.study?.networks[1].pathLength.source).toBe('log');
  });

  it('gives the same six numbers, curves and accuracies', () => {
    for (const net of ['T', 'S', 'B']) {
      const a = run.networks[net],
        b = study.networks[net];
      for (const k of [...SIX, 'D_var', 'images', 'accuracy'] as const) expect(b[k], `${net} ${k}`).toBe(a[k]);
      expect(b.perCheckpoint).toEqual(a.perCheckpoint);
      expect(b.perImage).toEqual(a.perImage);
    }
    expect(study.images).toEqual(run.images);
    expect(study.summary).toEqual(run.summary);
  });

  it('gives the same verdicts and the checks that both can make', () => {
    for (const h of ['H1', 'H2', 'H3'] as const) {
      expect(study.verdicts[h].result).toBe(run.verdicts[h].result);
      expect(study.verdicts[h].components).toEqual(run.verdicts[h].components);
    }
    const studyChecks = new Map(study.checks!.map((c) => [`${c.id}/${c.net ?? ''}`, c]));
    const shared = run.checks!.filter((c) => studyChecks.has(`${c.id}/${c.net ?? ''}`));
    expect(shared.length).toBeGreaterThan(3);
    for (const c of shared) expect(studyChecks.get(`${c.id}/${c.net ?? ''}`)).toEqual(c);
    expect(study.study?.pairs).toEqual([
      expect.objectContaining({ student: 'S', baseline: 'B', H1: run.verdicts.H1.result })
    ]);
    expect(study.study?.pathLengthNote).toBeNull();
  });

  it('gives the same numbers when the networks are found by the folder convention', () => {
    for (const net of ['T', 'S', 'B']) expect(byConvention.networks[net].perImage).toEqual(run.networks[net].perImage);
    expect(byConvention.summary).toEqual(run.summary);
  });
});
