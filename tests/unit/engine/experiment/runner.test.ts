import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';
import { tf } from '../../../../src/engine/tf/backend';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import type { MetricsDocument } from '../../../../src/engine/experiment/metrics';
import type { ExperimentEvent } from '../../../../src/common/events';
import { loadLayersModelFromDir } from '../../../../src/engine/store/model-files';
import { decodeNpy } from '../../../../src/engine/store/tensors';
import { writeReport } from '../../../../src/engine/report/html';
import { escapeHtml } from '../../../../src/engine/report/svg';
import { readConfig, readState } from '../../../../src/engine/experiment/record';
import { verdicts } from '../../../../src/engine/experiment/verdicts';
import type { NetworkMetrics } from '../../../../src/engine/experiment/analysis';
import { foldChecks } from '../../../../src/engine/experiment/check-inputs';
import { whatRan } from '../../../../src/common/record-schemas';
import { maskToGrid } from '../../../../src/engine/knowledge/grid';
import { backgroundMeanEntropy, conceptCells, countConcepts } from '../../../../src/engine/knowledge/concepts';
import { readMaskGrey } from '../../../../src/engine/io/images';
import { buildNetwork, layersUpTo } from '../../../../src/engine/models/architectures';
import { hashSeed } from '../../../../src/engine/util/random';

describe('experiment runner on a tiny dataset', () => {
  const tmp = tempDir();
  const ws = tmp.path;
  let id = '';
  let metrics: MetricsDocument;
  const events: ExperimentEvent[] = [];

  beforeAll(async () => {
    await useBackend('wasm');
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    await writeTinyDataset(ws, 'tiny-source', { seed: 2, perClass: 12, valPerClass: 0 });
    id = await createExperiment(ws, tinyConfig());
    metrics = await runExperiment(ws, id, { onEvent: (e) => events.push(e) });
  }, 300_000);
  afterAll(() => tmp.cleanup());

  it('writes the files of design.md', () => {
    const p = new ExperimentPaths(ws, id);
    for (const f of [
      p.config,
      p.state,
      p.images,
      p.metrics,
      p.events,
      join(p.final('T'), 'model.json'),
      join(p.final('S'), 'model.json'),
      join(p.final('B'), 'model.json')
    ])
      expect(existsSync(f), f).toBe(true);
    for (const e of [0, 1, 2, 3]) {
      expect(existsSync(join(p.checkpoint('S', e), 'model.json'))).toBe(true);
      expect(existsSync(join(p.checkpoint('B', e), 'model.json'))).toBe(true);
      expect(existsSync(p.maps('S', `epoch-${e}`).npy)).toBe(true);
      expect(existsSync(p.maps('B', `epoch-${e}`).npy)).toBe(true);
    }
    expect(existsSync(p.maps('T', 'final').npy)).toBe(true);
    expect(JSON.parse(readFileSync(p.state, 'utf8')).status).toBe('finished');
  });

  it('records in state.json what ran each quantification task, while the frozen config keeps what was asked', async () => {
    const p = new ExperimentPaths(ws, id);
    expect((await readConfig(p)).engine).toBe('auto');
    const q = (await readState(p)).quantification!;
    // 9 checkpoints (T final, S and B at epochs 0-3) x 2 chunks of 2 images (images 4, batch 2).
    const checkpoints = ['T/final', ...['S', 'B'].flatMap((n) => [0, 1, 2, 3].map((e) => `${n}/epoch-${e}`))];
    expect(Object.keys(q.tasks).sort()).toEqual(checkpoints.flatMap((c) => [`${c}#0`, `${c}#1`]).sort());
    expect(q.engines.length).toBeGreaterThan(0);
    for (const e of q.engines) expect(e).toMatch(/^(onnx|tfjs)\b/);
    expect(new Set(Object.values(q.tasks))).toEqual(new Set(q.engines));
    // The same engines as each checkpoint's map sidecar.
    for (const c of checkpoints) {
      const [net, key] = c.split('/');
      const sidecar = JSON.parse(readFileSync(p.maps(net, key).json, 'utf8')) as { engine: string[] };
      expect(new Set(sidecar.engine)).toEqual(new Set([q.tasks[`${c}#0`], q.tasks[`${c}#1`]]));
    }
    const ran = whatRan(await readState(p));
    expect(ran.quantification.reduce((n, r) => n + r.tasks, 0)).toBe(18);
    const html = readFileSync(await writeReport(ws, id), 'utf8');
    expect(html).toContain('Quantification engine asked for: auto, device cpu; what ran it:');
    for (const e of q.engines)
      expect(html).toContain(`${escapeHtml(e)} — ${ran.quantification.find((r) => r.engine === e)!.tasks} task(s)`);
  });

  it('lists every analysed image left out of a network with its reason, consistently with the counts', () => {
    for (const n of Object.values(metrics.networks)) {
      const byReason = { notEffective: 0, noForeground: 0, backgroundFilter: 0 };
      for (const r of n.removedImages!) byReason[r.reason]++;
      expect(byReason).toEqual(n.removed);
      expect(n.removedImages!.length + n.images).toBe(metrics.images.length);
      const kept = new Set(n.perImage.map((p) => p.index));
      for (const r of n.removedImages!) expect(kept.has(r.index)).toBe(false);
    }
  });

  it("writes a report in the app's colours and words: n/a for the teacher's D and rho, dashed legend lines, no internal document", async () => {
    const html = readFileSync(await writeReport(ws, id).then(() => new ExperimentPaths(ws, id).report), 'utf8');
    expect(html).toContain('n/a (one checkpoint)');
    expect(html).toContain('#0072b2');
    expect(html).toContain('#d55e00');
    expect(html).toMatch(/<line [^>]*stroke-dasharray="4 2"/);
    expect(html).not.toMatch(/method\.md|design\.md/);
    expect(html).toContain('Student stage 1: feature loss at L');
  });

  it('reports the six numbers in their ranges', () => {
    const cells = 16;
    for (const role of ['teacher', 'student', 'baseline'] as const) {
      const s = metrics.summary[role];
      expect(s.images).toBeGreaterThan(0);
      expect(s.N_fg).toBeGreaterThanOrEqual(0);
      expect(s.N_fg! + s.N_bg!).toBeLessThanOrEqual(cells);
      expect(s.ratio).toBeGreaterThanOrEqual(0);
      expect(s.ratio).toBeLessThanOrEqual(1);
      expect(s.accuracy).toBeGreaterThanOrEqual(0);
    }
    for (const role of ['student', 'baseline'] as const) {
      const s = metrics.summary[role];
      expect(s.D_mean).toBeGreaterThanOrEqual(0);
      expect(s.D_std).toBeGreaterThanOrEqual(0);
      expect(s.D_var).toBeCloseTo(s.D_std! ** 2, 10);
      expect(s.rho).toBeGreaterThanOrEqual(0);
      expect(s.rho).toBeLessThanOrEqual(1);
    }
    expect(metrics.summary.teacher.D_mean).toBeNull();
  });

  it("stores the verdicts of its own per-image numbers: S against B at the run's alpha and seed, folded with its checks", async () => {
    const config = await readConfig(new ExperimentPaths(ws, id));
    expect(config.seeds).toBe(1);
    // The document's networks are the analysis's (its schema lets numbers be null, as JSON writes NaN).
    const [s, b] = [metrics.networks.S, metrics.networks.B] as unknown as NetworkMetrics[];
    const expected = foldChecks(verdicts(s, b, { ...config.verdicts, seed: config.seed }), metrics.checks ?? []);
    expect(metrics.verdicts).toEqual(expected);
  });

  it('emits stages, epochs and per-checkpoint concept counts', () => {
    expect(events.some((e) => e.type === 'epoch' && e.net === 'S' && e.stage === 'student stage 1')).toBe(true);
    const concepts = events.filter((e) => e.type === 'concepts');
    expect(concepts.filter((e) => e.type === 'concepts' && e.net === 'S')).toHaveLength(4);
    expect(events.some((e) => e.type === 'stage' && e.stage === 'quantify' && e.status === 'done')).toBe(true);
  });

  it('starts the student and the baseline from the same weights', async () => {
    const p = new ExperimentPaths(ws, id);
    const s = await loadLayersModelFromDir(p.checkpoint('S', 0));
    const b = await loadLayersModelFromDir(p.checkpoint('B', 0));
    const sw = s.getWeights(),
      bw = b.getWeights();
    expect(sw.length).toBe(bw.length);
    for (let i = 0; i < sw.length; i++) expect(Array.from(sw[i].dataSync())).toEqual(Array.from(bw[i].dataSync()));
    const trained = await loadLayersModelFromDir(p.checkpoint('S', 3));
    expect(Array.from(trained.getLayer('fc1').getWeights()[0].dataSync())).not.toEqual(
      Array.from(s.getLayer('fc1').getWeights()[0].dataSync())
    );
    [s, b, trained].forEach((m) => m.dispose());
  });

  it('stage 1 lowers the feature MSE to the teacher', async () => {
    const logs = JSON.parse(readFileSync(new ExperimentPaths(ws, id).trainLog('S'), 'utf8')) as {
      stage: string;
      loss: number;
      valLoss: number;
    }[];
    const stage1 = logs.filter((l) => l.stage === 'student stage 1');
    expect(stage1).toHaveLength(3);
    expect(stage1[2].valLoss).toBeLessThan(stage1[0].valLoss);
    // The record of stage 1 (plain MSE in the tiny config): its final error against the teacher variance.
    const record = JSON.parse(readFileSync(join(new ExperimentPaths(ws, id).net('S'), 'distill.json'), 'utf8'));
    expect(record.lossNormalization).toBe('mse');
    expect(record.evaluatedOn).toBe('validation');
    expect(record.teacherVariance).toBeGreaterThan(0);
    expect(record.mse).toBeCloseTo(stage1[2].valLoss, 4);
    expect(record.unexplained).toBeCloseTo(record.mse / record.variance, 12);
  });

  it('stores the protocol checks in metrics.json and folds them into the verdicts', () => {
    const checks = metrics.checks ?? [];
    const ids = new Set(checks.map((c) => c.id));
    for (const c of [
      'teacher-beats-baseline',
      'student-mimics-teacher',
      'student-learns',
      'concept-density',
      'foreground-coverage',
      'never-learned',
      'sample-size',
      'dropped-images',
      'training-diverged'
    ])
      expect(ids.has(c), c).toBe(true);
    const failing = checks.some((c) => c.status === 'fail');
    for (const h of ['H1', 'H2', 'H3'] as const) {
      expect(metrics.verdicts[h].meaningful).toBe(!failing);
      expect(metrics.verdicts[h].details.startsWith('not meaningful: ')).toBe(failing);
    }
  });

  it('metrics.json matches a recomputation from the stored .npy maps and the masks', async () => {
    const p = new ExperimentPaths(ws, id);
    const saved = JSON.parse(readFileSync(p.metrics, 'utf8')) as MetricsDocument;
    const ids = JSON.parse(readFileSync(p.images, 'utf8')).ids as string[];
    const fg = await Promise.all(
      ids.map(async (sid) =>
        maskToGrid(
          (await readMaskGrey(join(ws, 'datasets', 'tiny', 'masks', `${sid}.png`), { width: 16, height: 16 })).data,
          { height: 16, width: 16 },
          4
        )
      )
    );
    const { values, shape } = decodeNpy(new Uint8Array(readFileSync(p.maps('B', 'epoch-3').npy)));
    expect(shape).toEqual([ids.length, 4, 4]);
    // Images without a foreground cell on the grid are left out of the numbers (and reported).
    const keep = ids.map((_, i) => i).filter((i) => fg[i].some((v) => v > 0));
    expect(saved.networks.B.removed.noForeground).toBe(ids.length - keep.length);
    const maps = keep.map((i) => values.slice(i * 16, (i + 1) * 16));
    const hBar = backgroundMeanEntropy(maps.map((entropy, k) => ({ entropy, foreground: fg[keep[k]] }))).value;
    const counts = maps.map((e, k) => countConcepts(conceptCells(e, hBar, 0.2), fg[keep[k]]));
    const meanFg = counts.reduce((s, c) => s + c.foregroundConcepts, 0) / counts.length;
    const meanBg = counts.reduce((s, c) => s + c.backgroundConcepts, 0) / counts.length;
    expect(saved.networks.B.perCheckpoint[3].backgroundMean).toBeCloseTo(hBar, 5);
    expect(saved.summary.baseline.N_fg).toBeCloseTo(meanFg, 10);
    expect(saved.summary.baseline.N_bg).toBeCloseTo(meanBg, 10);
  });

  it('a run cancelled mid-stage resumes from its checkpoint and ends with the same metrics', async () => {
    for (const stopAt of ['student stage 1', 'baseline']) {
      const again = await createExperiment(ws, tinyConfig());
      const controller = new AbortController();
      let epochs = 0;
      await expect(
        runExperiment(ws, again, {
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'epoch' && e.stage === stopAt && ++epochs === 2) controller.abort();
          }
        })
      ).rejects.toThrow(/cancelled/);
      const state = JSON.parse(readFileSync(new ExperimentPaths(ws, again).state, 'utf8'));
      expect(state.status).toBe('cancelled');
      const resumed = await runExperiment(ws, again);
      const strip = (m: MetricsDocument) => ({ ...m, experiment: '', createdAt: '' });
      expect(strip(resumed)).toEqual(strip(metrics));
    }
  }, 300_000);

  it('repeats student and baseline over seeds with one teacher, and reports mean and std', async () => {
    const multi = await createExperiment(ws, tinyConfig({ name: 'seeds', seeds: 2 }));
    const m = await runExperiment(ws, multi);
    expect(Object.keys(m.networks).sort()).toEqual(['B', 'B-1', 'S', 'S-1', 'T']);
    expect(m.verdictsPerSeed).toHaveLength(2);
    const values = [m.networks.S.N_fg!, m.networks['S-1'].N_fg!];
    const meanFg = (values[0] + values[1]) / 2;
    expect(m.seeds!.student.N_fg.mean).toBeCloseTo(meanFg, 12);
    expect(m.seeds!.student.N_fg.std).toBeCloseTo(Math.abs(values[0] - values[1]) / 2, 12);
    // Seed 1's networks start from other weights than seed 0's.
    const p = new ExperimentPaths(ws, multi);
    const w0 = (await loadLayersModelFromDir(p.checkpoint('S', 0))).getLayer('fc1').getWeights()[0].dataSync();
    const w1 = (await loadLayersModelFromDir(p.checkpoint('S-1', 0))).getLayer('fc1').getWeights()[0].dataSync();
    expect(Array.from(w0)).not.toEqual(Array.from(w1));
    expect(m.verdicts.H1.details).toMatch(/of 2 seeds/);
  }, 300_000);

  it('stage 2 freezes every layer up to the tap and trains only the layers above it', async () => {
    const p = new ExperimentPaths(ws, id);
    const endOfStage1 = await loadLayersModelFromDir(p.checkpoint('S', 3));
    const final = await loadLayersModelFromDir(p.final('S'));
    const below = layersUpTo(final, 'fc1');
    expect(below.has('fc1')).toBe(true);
    expect(below.has('fc2')).toBe(false);
    let frozen = 0;
    for (const layer of final.layers) {
      if (layer.getWeights().length === 0) continue;
      const before = endOfStage1
        .getLayer(layer.name)
        .getWeights()
        .map((w) => Array.from(w.dataSync()));
      const after = layer.getWeights().map((w) => Array.from(w.dataSync()));
      if (below.has(layer.name)) {
        expect(after, layer.name).toEqual(before);
        frozen++;
      } else expect(after[0], layer.name).not.toEqual(before[0]);
    }
    expect(frozen).toBeGreaterThanOrEqual(3); // the convolutions and fc1
    [endOfStage1, final].forEach((m) => m.dispose());
  });

  it('the teacher keeps its pretrained layers and gets a new head when the classes differ', async () => {
    await writeTinyDataset(ws, 'tiny-two', { seed: 4, classes: 2, perClass: 6, valPerClass: 0 });
    // Three classes as the target has, under other names: the same head size, but not the same head.
    await writeTinyDataset(ws, 'tiny-renamed', { seed: 5, perClass: 6, valPerClass: 0 });
    const renamed = join(ws, 'datasets', 'tiny-renamed', 'dataset.json');
    writeFileSync(
      renamed,
      JSON.stringify({ ...JSON.parse(readFileSync(renamed, 'utf8')), classes: ['apple', 'pear', 'plum'] })
    );
    const quick = (name: string, source: string) =>
      tinyConfig({
        name,
        teacher: {
          ...tinyConfig().teacher,
          source,
          pretrain: { ...tinyConfig().teacher.pretrain, epochs: 1 },
          finetune: { ...tinyConfig().teacher.finetune, epochs: 1, lr: 1e-12, lrEnd: 1e-12 }
        },
        student: {
          stage1: { ...tinyConfig().student.stage1, epochs: 1 },
          stage2: { ...tinyConfig().student.stage2, epochs: 0 }
        },
        baseline: { ...tinyConfig().baseline, epochs: 1 },
        quantification: { ...tinyConfig().quantification, images: 2, steps: 2 }
      });
    const maxDiff = (a: number[][], b: number[][]): number => {
      expect(a.map((x) => x.length)).toEqual(b.map((x) => x.length));
      return Math.max(...a.flatMap((x, i) => x.map((v, j) => Math.abs(v - b[i][j]))));
    };
    const layersOf = async (dir: string): Promise<Map<string, number[][]>> => {
      const m = await loadLayersModelFromDir(dir);
      const out = new Map(
        m.layers
          .filter((l) => l.getWeights().length)
          .map((l) => [l.name, l.getWeights().map((w) => Array.from(w.dataSync()))])
      );
      m.dispose();
      return out;
    };
    for (const [source, swapped] of [
      ['tiny-two', true],
      ['tiny-renamed', true],
      ['tiny-source', false]
    ] as const) {
      const run = await createExperiment(ws, quick(`head-${source}`, source));
      await runExperiment(ws, run);
      const p = new ExperimentPaths(ws, run);
      // One fine-tuning epoch at lr 1e-12 moves no weight by more than 1e-6: the final teacher is what fine-tuning started from.
      const pre = await layersOf(p.stage('T', 'pretrained-model'));
      const fin = await layersOf(p.final('T'));
      for (const [name, w] of fin) if (name !== 'fc3') expect(maxDiff(w, pre.get(name)!), name).toBeLessThan(1e-6);
      if (swapped) {
        const fresh = buildNetwork(tinyConfig().architecture, 3, hashSeed(tinyConfig().seed, 0x7e), 'teacher');
        const freshHead = fresh
          .getLayer('fc3')
          .getWeights()
          .map((w) => Array.from(w.dataSync()));
        expect(maxDiff(fin.get('fc3')!, freshHead)).toBeLessThan(1e-6);
        expect(fin.get('fc3')![1]).toHaveLength(3);
        expect(pre.get('fc3')![1]).toHaveLength(source === 'tiny-two' ? 2 : 3);
        fresh.dispose();
      } else expect(maxDiff(fin.get('fc3')!, pre.get('fc3')!)).toBeLessThan(1e-6);
    }
  }, 300_000);

  it('keeps the tensor count flat across a run', async () => {
    const before = tf.memory().numTensors;
    const again = await createExperiment(
      ws,
      tinyConfig({
        name: 'again',
        teacher: { ...tinyConfig().teacher, pretrain: { ...tinyConfig().teacher.pretrain, epochs: 1 } },
        verdicts: { alpha: 0.2, resamples: 500 }
      })
    );
    const m = await runExperiment(ws, again);
    expect(tf.memory().numTensors).toBe(before);
    // The configuration's alpha reaches the verdicts: an 80 % bootstrap interval.
    expect(m.settings.alpha).toBe(0.2);
    expect(m.verdicts.H2.components[0].text).toMatch(/80% bootstrap interval/);
  }, 300_000);
});
