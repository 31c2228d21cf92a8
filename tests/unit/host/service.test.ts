/*
 * The KdApi service against a workspace this test writes by hand: a tiny dataset and one
 * experiment folder (config, state, images, events, maps, metrics) written through the record, so
 * every answer can be checked against the values put in. Caller mistakes must be RequestErrors
 * with a 4xx status; a metrics.json of another version must arrive as metricsError, not a throw.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync, appendFileSync } from 'node:fs';
import { createHost, type Host } from '../../../src/host';
import type { JobHandle } from '../../../src/host/process-messages';
import { CallerError } from '../../../src/common/errors';
import { ExperimentPaths } from '../../../src/engine/experiment/paths';
import { StateStore } from '../../../src/engine/experiment/state';
import {
  writeConfig,
  writeImages,
  writeMapsSidecar,
  writeMetrics,
  appendEvent
} from '../../../src/engine/experiment/record';
import { writeFileAtomic } from '../../../src/engine/store/atomic';
import { encodeNpy } from '../../../src/engine/store/tensors';
import { readMaskGrey } from '../../../src/engine/io/images';
import { tempDir } from '../../helpers/fixtures';
import { writeTinyDataset } from '../../helpers/tiny-dataset';
import { tinyConfig } from '../../helpers/tiny-config';
import { metricsFixture } from '../renderer/metrics-fixture';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';

const silentJob = (): JobHandle => ({
  send: () => undefined,
  onMessage: () => undefined,
  onExit: () => undefined,
  kill: () => undefined
});

async function rejects(p: Promise<unknown>, status: number, message: RegExp): Promise<void> {
  const err = await p.then(
    () => null,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(CallerError);
  expect((err as CallerError).status).toBe(status);
  expect((err as Error).message).toMatch(message);
}

describe('KdApi service on a hand-written workspace', () => {
  const tmp = tempDir();
  const ws = tmp.path;
  const id = 'exp-hand';
  const paths = new ExperimentPaths(ws, id);
  const config = tinyConfig();
  let host: Host;
  let ids: string[];
  const entropy0 = Array.from({ length: 16 }, (_, i) => i / 4 - 2);

  beforeAll(async () => {
    const manifest = await writeTinyDataset(ws, 'tiny', { seed: 1 });
    ids = manifest.samples
      .filter((s) => s.split === 'train')
      .slice(0, 2)
      .map((s) => s.id);
    await fs.mkdir(paths.root, { recursive: true });
    await writeConfig(paths, config);
    const state = await StateStore.create(paths.state, id);
    await state.mark('baseline', 'done', { seconds: 2 });
    await writeImages(paths, { seed: 3, ids, count: 2 });
    await appendEvent(paths, {
      type: 'epoch',
      net: 'S',
      stage: 'student stage 1',
      epoch: 1,
      epochs: 3,
      lr: 0.1,
      loss: 0.5,
      accuracy: null,
      valLoss: 0.4,
      valAccuracy: null,
      pathLength: 0.25
    });
    appendFileSync(paths.events, '{"type":"epoch","net":"S"\n'); // a line cut by a crash
    await appendEvent(paths, {
      type: 'concepts',
      net: 'S',
      epoch: 0,
      pathLength: 0,
      foreground: 1.5,
      background: 0.5,
      ratio: 0.75,
      conceptFraction: 0.125,
      images: 2
    });
    const values = new Float32Array(32).fill(NaN);
    values.set(entropy0, 0);
    await writeFileAtomic(paths.maps('S', 'epoch-0').npy, encodeNpy(values, [2, 4, 4]));
    await writeMapsSidecar(paths, {
      net: 'S',
      checkpoint: 'epoch-0',
      epoch: 0,
      pathLength: 0,
      images: ids,
      effective: [true, false],
      sigmaF2: [0.5, 0],
      meanEntropy: [-0.125, null],
      steps: [10, 0],
      selectedStep: [9, 0],
      lambda: [7, 7]
    });
    const metrics = metricsFixture();
    for (const c of metrics.networks.S.perCheckpoint) c.backgroundMean = c.epoch + 0.5; // H_bar differs per checkpoint
    await writeMetrics(paths, metrics);
    host = createHost({ workspace: ws, shell: 'browser', version: 'test', spawnJob: silentJob });
  });
  afterAll(async () => {
    await host.shutdown();
    tmp.cleanup();
  });

  it('lists the experiment from its config and state', async () => {
    const list = await host.service.listExperiments();
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({
      id,
      name: 'tiny',
      dataset: 'tiny',
      status: 'created',
      tap: 'fc1',
      family: 'vgg',
      inputSize: 16,
      seeds: 1,
      hasMetrics: true,
      error: null
    });
  });

  it('getExperiment: typed metrics, training and concepts from events.jsonl (a cut line skipped), images', async () => {
    const d = await host.service.getExperiment({ experimentId: id });
    expect(d.config).toEqual(config);
    expect(d.stages).toEqual({ baseline: { status: 'done', seconds: 2 } });
    expect(d.metricsError).toBeNull();
    expect(d.metrics!.summary.student.N_fg).toBe(12.5);
    expect(d.metrics!.verdicts.H3.result).toBe('not supported');
    expect(d.training).toEqual([
      {
        net: 'S',
        stage: 'student stage 1',
        epoch: 1,
        loss: 0.5,
        accuracy: null,
        valLoss: 0.4,
        valAccuracy: null,
        pathLength: 0.25
      }
    ]);
    expect(d.concepts).toEqual([
      {
        type: 'concepts',
        net: 'S',
        epoch: 0,
        pathLength: 0,
        foreground: 1.5,
        background: 0.5,
        ratio: 0.75,
        conceptFraction: 0.125,
        images: 2
      }
    ]);
    expect(d.images).toEqual(ids);
  });

  it('getMaps: the stored entropies, null where not effective, H_bar from metrics.json', async () => {
    const m = await host.service.getMaps({ experimentId: id, net: 'S', checkpoint: 'epoch-0' });
    expect(m).toMatchObject({
      net: 'S',
      checkpoint: 'epoch-0',
      epoch: 0,
      pathLength: 0,
      grid: 4,
      threshold: 0.2,
      backgroundMean: 0.5
    });
    expect(m.entropy[0]).toEqual(entropy0);
    expect(m.entropy[1]).toBeNull();
    await rejects(
      host.service.getMaps({ experimentId: id, net: 'B', checkpoint: 'epoch-0' }),
      404,
      /no entropy maps yet for B at epoch-0/
    );
  });

  it('getInspectorImage: the sample, its mask and the top-left rule on the 4 x 4 grid', async () => {
    const img = await host.service.getInspectorImage({ experimentId: id, index: 1 });
    expect(img.sampleId).toBe(ids[1]);
    expect(img.grid).toBe(4);
    expect(img.image).toMatch(/^data:image\/png;base64,/);
    const sample = (await host.service.getDataset({ id: 'tiny' })).samples.find((s) => s.id === ids[1])!;
    const mask = await readMaskGrey(join(ws, 'datasets', 'tiny', sample.mask), { width: 16, height: 16 });
    // Cell (r, c) takes the pixel at (4r, 4c): the top-left pixel of its 4 x 4 block.
    const expected = Array.from({ length: 16 }, (_, i) =>
      mask.data[Math.floor(i / 4) * 4 * 16 + (i % 4) * 4] > 0 ? 1 : 0
    );
    expect(img.foreground).toEqual(expected);
    expect(expected.some((v) => v === 1)).toBe(true);
    await rejects(
      host.service.getInspectorImage({ experimentId: id, index: 2 }),
      404,
      /analysed 2 images; there is no image 2/
    );
  });

  it('unknown experiments, samples and missing fields are caller mistakes (4xx)', async () => {
    await rejects(host.service.getExperiment({ experimentId: 'nope' }), 404, /experiment 'nope' not found/);
    await rejects(host.service.resumeExperiment({ experimentId: 'nope' }), 404, /not found/);
    await rejects(host.service.getInspectorImage({ experimentId: 'nope', index: 0 }), 404, /not found/);
    await rejects(host.service.getSampleImages({ datasetId: 'tiny', sampleId: 'nope' }), 404, /no sample 'nope'/);
    await rejects(host.service.defaultConfig({ kind: 'dataset' }), 400, /datasetId is required/);
    // The probe: a configuration without a source or pretrained teacher, a missing source, a folder outside.
    const noSource = { ...config, teacher: { ...config.teacher, source: null } };
    await rejects(
      host.service.probeSource({ config: noSource }),
      400,
      /needs a source dataset or a pretrained teacher/
    );
    await rejects(
      host.service.probeSource({ config: { ...config, teacher: { ...config.teacher, source: 'absent' } } }),
      404,
      /absent/
    );
    await rejects(
      host.service.probeSource({ config: { ...noSource, teacher: { ...noSource.teacher, pretrained: '/etc' } } }),
      403,
      /outside the workspace/
    );
    await rejects(
      host.service.importDataset({ format: 'folder', src: '/etc', name: 'x' }),
      403,
      /outside the workspace/
    );
  });

  it('a metrics.json of another version arrives as metricsError naming the file and field; the rest still reads', async () => {
    const good = await fs.readFile(paths.metrics, 'utf8');
    const { summary: _summary, ...old } = JSON.parse(good) as Record<string, unknown>;
    writeFileSync(paths.metrics, JSON.stringify(old));
    try {
      const d = await host.service.getExperiment({ experimentId: id });
      expect(d.metrics).toBeNull();
      expect(d.metricsError).toContain(paths.metrics);
      expect(d.metricsError).toMatch(/field summary: .*older version/);
      expect(d.images).toEqual(ids);
      const m = await host.service.getMaps({ experimentId: id, net: 'S', checkpoint: 'epoch-0' });
      expect(m.backgroundMean).toBeNull();
    } finally {
      writeFileSync(paths.metrics, good);
    }
  });

  it('a damaged state.json names the file and the field', async () => {
    const good = await fs.readFile(paths.state, 'utf8');
    writeFileSync(paths.state, JSON.stringify({ ...JSON.parse(good), status: 'paused' }));
    try {
      await expect(host.service.getExperiment({ experimentId: id })).rejects.toThrow(
        /state\.json: field status: .*older version/
      );
      const [listed] = await host.service.listExperiments();
      expect(listed).toMatchObject({ id, status: 'unreadable', hasMetrics: false });
      expect(listed.error).toMatch(/state\.json: field status: /);
    } finally {
      writeFileSync(paths.state, good);
    }
  });

  it('lists datasets with per-class counts', async () => {
    const [d] = await host.service.listDatasets();
    expect(d).toMatchObject({ id: 'tiny', name: 'tiny', samples: 30, skipped: 0, edited: 0 });
    expect(d.classes.map((c) => c.count)).toEqual([10, 10, 10]);
  });
});
