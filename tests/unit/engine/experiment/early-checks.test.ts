import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { tinyConfig } from '../../../helpers/tiny-config';
import { tf } from '../../../../src/engine/tf/backend';
import type { ImageSet } from '../../../../src/engine/training/data';
import { deadImages } from '../../../../src/engine/experiment/distill';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { StateStore } from '../../../../src/engine/experiment/state';
import { readState, writeDistillRecord } from '../../../../src/engine/experiment/record';
import {
  EarlyStopError,
  enforce,
  studentChecks,
  type EarlyCheckContext
} from '../../../../src/engine/experiment/early-checks';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import type { ExperimentEvent } from '../../../../src/common/events';
import type { RunConfig } from '../../../../src/common/config';

describe('early protocol checks', () => {
  const tmp = tempDir();
  beforeAll(async () => {
    await useBackend('wasm');
  });
  afterAll(() => tmp.cleanup());

  it('counts the images whose ReLU(feature) is all zero', async () => {
    // 4 images of 2x2x3; the feature is x - 0.5: an image is dead iff no pixel value exceeds 0.5.
    const x = new Float32Array(4 * 12);
    x.fill(0.2, 0, 12); // dead
    x.fill(0.5, 12, 24); // dead (0 is not above 0)
    x.fill(0.1, 24, 36);
    x[30] = 0.7; // one live element
    x.fill(0.9, 36, 48);
    const set: ImageSet = { n: 4, size: 2, x, labels: new Int32Array(4), ids: ['a', 'b', 'c', 'd'], masks: null };
    expect(await deadImages(set, (t) => t.sub(0.5), 3)).toEqual({ dead: 2, images: 4 });
    expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
  });

  async function context(dir: string, stopOnFail: boolean): Promise<EarlyCheckContext & { events: ExperimentEvent[] }> {
    const paths = new ExperimentPaths(tmp.path, dir);
    await import('node:fs').then((fs) => fs.promises.mkdir(paths.root, { recursive: true }));
    const state = await StateStore.create(paths.state, dir);
    const events: ExperimentEvent[] = [];
    const config = { ...tinyConfig(), checks: { stopOnFail } } as RunConfig;
    return { config, paths, state, emit: (e) => events.push(e), events };
  }

  const record = (deadCount: number, unexplained: number) => ({
    net: 'S',
    lossNormalization: 'teacher-variance' as const,
    teacherVariance: 2,
    evaluatedOn: 'validation' as const,
    mse: 2 * unexplained,
    variance: 2,
    unexplained,
    deadImages: deadCount,
    images: 24
  });

  it('a dead tap after stage 1 stops the run with its advice in the error, the events and state.json', async () => {
    const ctx = await context('dead', true);
    await writeDistillRecord(ctx.paths, record(24, 1.01));
    const checks = await studentChecks(ctx, 'S');
    expect(checks.map((c) => [c.id, c.status])).toEqual([
      ['student-mimics-teacher', 'fail'],
      ['tap-alive', 'fail']
    ]);
    const err = await enforce(ctx, 'S stage 1', checks).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EarlyStopError);
    expect((err as Error).message).toMatch(/^stopped after S stage 1 by a failing protocol check/);
    expect((err as Error).message).toContain('all zero on 24 of 24 images');
    expect((err as Error).message).toContain('advice: lower stage 1');
    const stop = (await readState(ctx.paths)).stop!;
    expect(stop.after).toBe('S stage 1');
    expect(stop.checks.map((c) => c.id)).toEqual(['student-mimics-teacher', 'tap-alive']);
    expect(ctx.events.filter((e) => e.type === 'log' && e.level === 'warn')).toHaveLength(2);
  });

  it('with stopOnFail off, or a check a forced resume passed, the run goes on', async () => {
    const off = await context('off', false);
    await writeDistillRecord(off.paths, record(24, 0.2));
    await expect(enforce(off, 'S stage 1', await studentChecks(off, 'S'))).resolves.toBeUndefined();
    const forced = await context('forced', true);
    await writeDistillRecord(forced.paths, record(24, 0.2));
    await forced.state.force(['tap-alive']);
    await expect(enforce(forced, 'S stage 1', await studentChecks(forced, 'S'))).resolves.toBeUndefined();
    // A healthy student passes.
    const ok = await context('ok', true);
    await writeDistillRecord(ok.paths, record(2, 0.2));
    await expect(enforce(ok, 'S stage 1', await studentChecks(ok, 'S'))).resolves.toBeUndefined();
  });

  it('a teacher weaker than the baseline stops a real run before the student; resume refuses, --force goes on', async () => {
    const ws = `${tmp.path}/ws`;
    await writeTinyDataset(ws, 'tiny', { seed: 1, perClass: 10, valPerClass: 4 });
    // An untrained teacher (no source, one epoch at a negligible rate) against a baseline trained 4 epochs.
    const config = tinyConfig({
      teacher: {
        source: null,
        pretrained: null,
        pretrain: { epochs: 0, lr: 0.05, lrEnd: 0.01, batchSize: 8 },
        finetune: { epochs: 1, lr: 1e-7, lrEnd: 1e-7, batchSize: 8 }
      },
      baseline: { epochs: 4, lr: 0.05, lrEnd: 0.01, batchSize: 8 },
      checks: { stopOnFail: true }
    });
    const id = await createExperiment(ws, config);
    const events: ExperimentEvent[] = [];
    const err = await runExperiment(ws, id, { onEvent: (e) => events.push(e) }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /stopped after the baseline by a failing protocol check \(checks.stopOnFail\): the teacher is weaker than the baseline: [\d.]+ % against [\d.]+ % validation accuracy \(advice: fine-tune the teacher longer/
    );
    const paths = new ExperimentPaths(ws, id);
    const state = await readState(paths);
    expect(state.status).toBe('failed');
    expect(state.stop?.checks.map((c) => c.id)).toEqual(['teacher-beats-baseline']);
    expect(state.stages['baseline']?.status).toBe('done');
    expect(state.stages['student stage 1']).toBeUndefined();
    expect(existsSync(paths.final('S'))).toBe(false);
    const started = events
      .filter((e) => e.type === 'stage' && e.status === 'running')
      .map((e) => (e as { stage: string }).stage);
    expect(started).toEqual(['load data', 'teacher finetune', 'baseline']);

    await expect(runExperiment(ws, id)).rejects.toThrow(/Resuming would repeat this.*--force/);
    expect((await readState(paths)).stages['student stage 1']).toBeUndefined();

    // Forced past the teacher check, the run trains the student's stage 1, whose feature a random teacher's is not
    // (the tiny student cannot follow it): the next check stops it before stage 2 and the quantification.
    const second = await runExperiment(ws, id, { force: true }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(EarlyStopError);
    const mid = await readState(paths);
    expect(mid.stop?.after).toBe('S stage 1');
    expect(mid.stages['student stage 1']?.status).toBe('done');
    expect(mid.stages['student stage 2']).toBeUndefined();
    expect(mid.forced).toEqual(['teacher-beats-baseline']);

    const metrics = await runExperiment(ws, id, { force: true });
    const after = await readState(paths);
    expect(after.status).toBe('finished');
    expect(after.stop).toBeUndefined();
    expect(after.forced).toEqual(['teacher-beats-baseline', ...mid.stop!.checks.map((c) => c.id)]);
    expect(after.stages['teacher finetune']?.status).toBe('done');
    // The final checks still say what failed.
    expect(metrics.checks?.find((c) => c.id === 'teacher-beats-baseline')?.status).toBe('fail');
  }, 240_000);
});
