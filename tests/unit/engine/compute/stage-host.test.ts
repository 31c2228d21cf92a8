/*
 * Training stages through a compute page's port, with the page played by serveCompute in this process on wasm over
 * a Node MessageChannel (the chromium run of the same page is in page.test.ts): the host's computeTrainer ends with
 * the weights, logs, checkpoints and resume files of trainStage at home; a stage cancelled at home resumes through
 * the port from the host's resume files; a feature objective travels with its teacher; one without is refused.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { MessageChannel } from 'node:worker_threads';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { tf } from '../../../../src/engine/tf/backend';
import { buildNetwork, tapKernel } from '../../../../src/engine/models/architectures';
import { tapFeature } from '../../../../src/engine/knowledge/feature';
import {
  trainStage,
  CancelledError,
  type StageSpec,
  type StageTrainer
} from '../../../../src/engine/training/folder-stage';
import type { ImageSet } from '../../../../src/engine/training/data';
import { serveCompute } from '../../../../src/engine/compute/serve';
import { ComputeClient } from '../../../../src/engine/compute/client';
import { computeTrainer } from '../../../../src/engine/compute/stage-host';
import { Rng } from '../../../../src/engine/util/random';
import type { Architecture } from '../../../../src/common/config';

const ARCH: Architecture = {
  family: 'vgg',
  inputSize: 8,
  channels: [4, 6],
  convsPerStage: 1,
  fcUnits: [8, 6],
  dropout: 0
};

function imageSet(n: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  return {
    n,
    size: 8,
    x: rng.fillNormal(new Float32Array(n * 8 * 8 * 3)),
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    ids: Array.from({ length: n }, (_, i) => `i${i}`),
    masks: new Uint8Array(n * 64)
  };
}

const values = (model: tf.LayersModel): Promise<Float32Array[]> =>
  Promise.all(model.getWeights().map(async (w) => (await w.data()) as Float32Array));

interface Run {
  logs: { loss: number; valLoss: number | null }[];
  pathLength: (number | null)[];
  resumedFrom: number;
  weights: Float32Array[];
  checkpoints: { epoch: number; weights: Float32Array[] }[];
}

/** Two epochs of a labels stage (momentum, weight decay, augmentation, path length, checkpoints at 0, 1, 2). */
async function stageRun(trainer: StageTrainer, dir: string, extra: Partial<StageSpec> = {}): Promise<Run> {
  const model = buildNetwork(ARCH, 3, 5, 'net');
  const checkpoints: Run['checkpoints'] = [];
  try {
    const result = await trainer({
      name: 'tiny stage',
      model,
      trainable: model.trainableWeights,
      objective: { kind: 'labels', numClasses: 3 },
      config: { epochs: 2, lr: 0.05, lrEnd: 0.01, batchSize: 4 },
      momentum: 0.9,
      weightDecay: 1e-3,
      augment: { flip: true, cropPad: 1 },
      train: imageSet(8, 11),
      val: imageSet(4, 12),
      seed: 7,
      tapKernel: tapKernel(model, 'fc1'),
      checkpoints: [0, 1, 2],
      dir,
      saveCheckpoint: async (epoch) => void checkpoints.push({ epoch, weights: await values(model) }),
      ...extra
    });
    return {
      logs: result.logs,
      pathLength: result.pathLength,
      resumedFrom: result.resumedFrom,
      weights: await values(model),
      checkpoints
    };
  } finally {
    model.dispose();
  }
}

function expectSame(a: readonly Float32Array[], b: readonly Float32Array[], what: string): void {
  expect(a.length, what).toBe(b.length);
  a.forEach((w, i) => expect(Array.from(w), `${what}, weight ${i}`).toEqual(Array.from(b[i])));
}

describe('training stages on a compute page, from the host', () => {
  const tmp = tempDir();
  const channel = new MessageChannel();
  let client: ComputeClient;
  let home: Run;

  beforeAll(async () => {
    await useBackend('wasm');
    const page = channel.port2;
    serveCompute({
      postMessage: (m) => page.postMessage(m),
      addEventListener: (_t, fn) => page.on('message', (data) => fn({ data })),
      start: () => page.start()
    });
    const host = channel.port1;
    client = new ComputeClient({
      postMessage: (m) => host.postMessage(m),
      addEventListener: (_t, fn) => host.on('message', (data) => fn({ data })),
      start: () => host.start()
    });
    home = await stageRun(trainStage, join(tmp.path, 'home'));
  });
  afterAll(() => {
    channel.port1.close();
    tmp.cleanup();
  });

  it('ends with the weights, logs, path length and checkpoints of the stage at home, and writes resume files in the host format', async () => {
    const onPage = await stageRun(computeTrainer(client), join(tmp.path, 'page'));
    expect(onPage.logs.map((l) => [l.loss, l.valLoss])).toEqual(home.logs.map((l) => [l.loss, l.valLoss]));
    expect(onPage.pathLength).toEqual(home.pathLength);
    expect(onPage.checkpoints.map((c) => c.epoch)).toEqual([0, 1, 2]);
    onPage.checkpoints.forEach((c, k) => expectSame(c.weights, home.checkpoints[k].weights, `checkpoint ${c.epoch}`));
    expectSame(onPage.weights, home.weights, 'final');
    expect(readdirSync(join(tmp.path, 'page')).sort()).toEqual(['resume-2', 'resume.json']);
    expect(existsSync(join(tmp.path, 'page', 'resume-2', 'momentum.bin'))).toBe(true);
  });

  it('resumes through the port from the resume files of a stage cancelled at home, and ends as the uninterrupted one', async () => {
    const dir = join(tmp.path, 'resumed');
    const stop = new AbortController();
    await expect(stageRun(trainStage, dir, { signal: stop.signal, onEpoch: () => stop.abort() })).rejects.toThrow(
      CancelledError
    );
    const resumed = await stageRun(computeTrainer(client), dir);
    expect(resumed.resumedFrom).toBe(1);
    expect(resumed.logs.map((l) => l.loss)).toEqual(home.logs.map((l) => l.loss));
    expectSame(resumed.weights, home.weights, 'final');
  });

  it('a feature objective travels with its teacher and tap; one without them is refused before any work', async () => {
    const teacher = buildNetwork(ARCH, 3, 9, 'teacher');
    const feature = (student: tf.LayersModel, withSource: boolean) => ({
      kind: 'feature' as const,
      student: tapFeature(student, 'conv'),
      teacher: tapFeature(teacher, 'conv'),
      scale: 0.5,
      ...(withSource ? { source: { teacher, tap: 'conv' } } : {})
    });
    const run = async (trainer: StageTrainer, dir: string, withSource = true) => {
      const model = buildNetwork(ARCH, 3, 5, 'net');
      try {
        const result = await trainer({
          name: 'student stage 1',
          model,
          trainable: model.trainableWeights,
          objective: feature(model, withSource),
          config: { epochs: 1, lr: 0.05, lrEnd: 0.05, batchSize: 4 },
          momentum: 0.9,
          weightDecay: 0,
          augment: null,
          train: imageSet(8, 13),
          val: null,
          seed: 3,
          tapKernel: null,
          checkpoints: [],
          dir
        });
        return { loss: result.logs[0].loss, weights: await values(model) };
      } finally {
        model.dispose();
      }
    };
    try {
      const atHome = await run(trainStage, join(tmp.path, 'f-home'));
      const onPage = await run(computeTrainer(client), join(tmp.path, 'f-page'));
      expect(onPage.loss).toBe(atHome.loss);
      expectSame(onPage.weights, atHome.weights, 'feature stage');
      await expect(run(computeTrainer(client), join(tmp.path, 'f-none'), false)).rejects.toThrow(
        'student stage 1: a feature objective without its teacher model and tap cannot run on a compute page'
      );
    } finally {
      teacher.dispose();
    }
  });
});
