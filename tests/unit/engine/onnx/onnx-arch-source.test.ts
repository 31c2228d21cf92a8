/*
 * The teacher of an ONNX-architecture run pretrains on a source dataset (teacher.source): its
 * classifier sized to the source's classes, then the fine-tune on the target starts from that trunk
 * with the classifier replaced (target classes, fresh from the teacher's seed). A run cancelled in
 * the fine-tune does not pretrain again and ends with the uninterrupted run's teacher; a missing
 * source is refused before anything is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { initialWeights } from '../../../../src/engine/onnx/onnx-arch-weights';
import { planForClasses } from '../../../../src/engine/onnx/onnx-arch-pretrain';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { folderResume } from '../../../../src/engine/experiment/record';
import { createExperiment, runExperiment } from '../../../../src/engine/experiment/runner';
import { ExperimentPaths } from '../../../../src/engine/experiment/paths';
import { hashSeed } from '../../../../src/engine/util/random';
import { onnxRunProblems } from '../../../../src/common/config-checks';
import { OnnxRunConfigSchema } from '../../../../src/common/config';
import { parseWith } from '../../../../src/common/schema';
import { describeOnnxRun, prepareOnnxRun } from '../../../../src/engine/onnx/onnx-arch-run';
import type { ExperimentEvent } from '../../../../src/common/events';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';
import { onnxArchConfig, onnxWorkspace, runCancelledAt, tinyArchPlan } from '../../../helpers/onnx-arch';

const plan = tinyArchPlan();

describe('an ONNX-architecture teacher pretrained on a source dataset', () => {
  const tmp = tempDir('kd-onnx-source-');
  const ws = tmp.path;
  afterAll(() => tmp.cleanup());
  const config = (name: string, source = 'shapes2'): Record<string, unknown> =>
    onnxArchConfig(name, { teacher: () => ({ source, pretrained: null }) });
  beforeAll(async () => {
    await useBackend('cpu');
    await onnxWorkspace(ws);
    // The source: 2 classes at 24 px (read at the architecture's 16 px).
    await writeTinyDataset(ws, 'shapes2', { seed: 2, classes: 2, size: 24 });
  });

  it('the configuration is no longer refused; a missing source is, naming teacher.source, before anything is written', async () => {
    const c = config('check');
    expect(onnxRunProblems(c as never)).toEqual([]);
    // What kd-lens run prints about the teacher.
    const prepared = await prepareOnnxRun({
      workspace: ws,
      config: parseWith(OnnxRunConfigSchema, c, 'configuration'),
      onnx: join(ws, 'models', 'tiny-arch.onnx'),
      classifier: null,
      tap: '/Relu_1',
      teacher: null
    });
    expect(prepared.source?.id).toBe('shapes2');
    expect(describeOnnxRun(prepared)).toContain(
      "  teacher: pretrains 2 epochs on 'shapes2' (2 classes: classifier '/fc/Gemm' 6 -> 2), then its classifier is replaced; students and baselines re-initialised from each seed"
    );
    const before = readdirSync(join(ws));
    await expect(createExperiment(ws, config('missing', 'nowhere'))).rejects.toThrow(
      /^teacher\.source: no dataset 'nowhere'/
    );
    expect(readdirSync(join(ws))).toEqual(before);
  });

  it('pretrains with the source-sized classifier, fine-tunes from its trunk with a fresh one; a cut run ends as the whole', async () => {
    const whole = await createExperiment(ws, config('whole'));
    const events: ExperimentEvent[] = [];
    await runExperiment(ws, whole, { onEvent: (e) => events.push(e) });
    const q = new ExperimentPaths(ws, whole);
    const state = JSON.parse(readFileSync(q.state, 'utf8'));
    expect(state.stages['teacher pretrain'].status).toBe('done');
    expect(state.stages['teacher pretrain'].engine).toMatch(/^onnx cpu/);
    const tEpochs = events.flatMap((e) => (e.type === 'epoch' && e.net === 'T' ? [`${e.stage} ${e.epoch}`] : []));
    expect(tEpochs).toEqual(['teacher pretrain 1', 'teacher pretrain 2', 'teacher finetune 1', 'teacher finetune 2']);

    // The pretrained state: the classifier has the source's 2 classes, the trunk moved from its seeded start.
    const pre = (await folderResume(q.stage('T', 'teacher-pretrain')).load())!;
    const w = new Map(pre.weights.map((a) => [a.name, a.values]));
    expect(w.get('fc.weight')!.length).toBe(2 * 6);
    const teacherSeed = hashSeed(3, 0x7e);
    const seeded = initialWeights(planForClasses(plan, 2), teacherSeed);
    expect(Array.from(w.get('conv1.weight')!)).not.toEqual(Array.from(seeded.get('conv1.weight')!));
    // The fine-tune's start (T's epoch 0): that trunk, and the target's 3-class classifier fresh from the teacher's seed.
    const start = readOnnxModel(readFileSync(join(q.net('T'), 'epoch-0.onnx')), 'epoch-0.onnx');
    for (const name of plan.trainable.concat(plan.state).filter((n) => !n.startsWith('fc.')))
      expect(Array.from(start.initializers.get(name)!.data as Float32Array), name).toEqual(Array.from(w.get(name)!));
    const fresh = initialWeights(plan, teacherSeed);
    for (const name of ['fc.weight', 'fc.bias'])
      expect(Array.from(start.initializers.get(name)!.data as Float32Array), name).toEqual(
        Array.from(fresh.get(name)!)
      );

    // Cancelled in the fine-tune and resumed: no pretraining again, the same teacher at the end.
    const cut = await createExperiment(ws, config('cut'));
    await runCancelledAt(ws, cut, (e) => e.type === 'epoch' && e.stage === 'teacher finetune' && e.epoch === 1);
    const again: ExperimentEvent[] = [];
    await runExperiment(ws, cut, { onEvent: (e) => again.push(e) });
    const resumed = again.flatMap((e) => (e.type === 'epoch' && e.net === 'T' ? [`${e.stage} ${e.epoch}`] : []));
    expect(resumed).toEqual(['teacher finetune 2']);
    const p = new ExperimentPaths(ws, cut);
    for (const f of ['epoch-0.onnx', 'epoch-2.onnx'])
      expect(readFileSync(join(p.net('T'), f)).equals(readFileSync(join(q.net('T'), f))), f).toBe(true);
  }, 120_000);
});
