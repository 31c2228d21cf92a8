/*
 * `kd-lens run` with an ONNX architecture on tiny data: the tiny PyTorch export is the teacher
 * (pretrained) and the graph of S and B; the experiment exists from the start and trains them as its
 * stages (models/<net>/epoch-E.onnx); metrics.json has numbers, the teacher started from the file's
 * weights, S and B share their start; a loss that stays NaN rolls back and then fails naming the stage;
 * each refusal exits non-zero and leaves nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/fixtures';
import { runCli } from '../../helpers/cli';
import {
  experimentCount,
  ONNX_ARCH_FIXTURES as FIXTURES,
  onnxArchConfig,
  onnxWorkspace,
  tinyArchPlan
} from '../../helpers/onnx-arch';
import { readOnnxModel } from '../../../src/engine/onnx/onnx-file';
import { checkpointBytes, teacherWeights } from '../../../src/engine/onnx/onnx-arch-weights';

const weightsOf = (file: string, name: string): number[] =>
  Array.from(readOnnxModel(readFileSync(file), file).initializers.get(name)!.data as Float32Array);

/** The tiny ONNX run of nets/tiny-arch.onnx, its architecture without a classifier field (the CLI's optional one). */
const onnxConfig = (over: Record<string, unknown> = {}): Record<string, unknown> =>
  onnxArchConfig('onnx-tiny', {
    onnx: 'nets/tiny-arch.onnx',
    teacher: (rest) => ({ pretrain: { ...rest.teacher.pretrain, epochs: 0 } }),
    more: () => ({ architecture: { onnx: 'nets/tiny-arch.onnx' }, ...over })
  });

describe('kd-lens run with an ONNX architecture', () => {
  const tmp = tempDir('kd-onnx-run-');
  const ws = tmp.path;
  afterAll(() => tmp.cleanup());
  const setup = async (): Promise<void> => {
    await onnxWorkspace(ws, 'nets');
    for (const f of ['sin-op.onnx', 'size-24.onnx', 'no-classifier.onnx'])
      copyFileSync(join(FIXTURES, f), join(ws, 'nets', f));
  };

  it('trains T, S and B on ONNX Runtime and analyses their ONNX checkpoints into metrics.json', async () => {
    await setup();
    const file = join(ws, 'run.json');
    writeFileSync(file, JSON.stringify(onnxConfig()));
    const r = await runCli(['run', file, '--workspace', ws]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/classifier '\/fc\/Gemm' \(Gemm\): 6 -> 3 classes \(the file has 5\)/);
    expect(r.stderr).toMatch(/tap '\/Relu_1' \(value '\/Relu_1_output_0'; path length of 'conv2\.weight'\)/);
    const [experiment] = readdirSync(join(ws, 'experiments'));
    const root = join(ws, 'experiments', experiment);
    const models = join(root, 'models');
    // The teacher's first checkpoint holds the file's trunk; S and B share their start.
    for (const w of ['conv1.weight', 'bn1.weight', 'bn1.running_var', 'conv2.weight'])
      expect(weightsOf(join(models, 'T', 'epoch-0.onnx'), w), w).toEqual(
        weightsOf(join(FIXTURES, 'tiny-arch.onnx'), w)
      );
    for (const w of ['conv1.weight', 'conv2.weight', 'fc.weight'])
      expect(weightsOf(join(models, 'S', 'epoch-0.onnx'), w), w).toEqual(
        weightsOf(join(models, 'B', 'epoch-0.onnx'), w)
      );
    expect(weightsOf(join(models, 'S', 'epoch-0.onnx'), 'conv1.weight')).not.toEqual(
      weightsOf(join(FIXTURES, 'tiny-arch.onnx'), 'conv1.weight')
    );
    const arch = join(root, 'onnx', 'architecture.onnx');
    expect(existsSync(arch)).toBe(true);
    const frozen = JSON.parse(readFileSync(join(root, 'config.json'), 'utf8'));
    expect(frozen.onnxRun).toEqual({
      architecture: { onnx: arch, classifier: null },
      tap: '/Relu_1',
      pretrained: arch
    });
    const state = JSON.parse(readFileSync(join(root, 'state.json'), 'utf8'));
    for (const stage of ['teacher finetune', 'baseline', 'student stage 1', 'student stage 2'])
      expect(state.stages[stage], stage).toMatchObject({
        status: 'done',
        engine: expect.stringMatching(/^onnx cpu — \d+ threads?$/)
      });
    const path = JSON.parse(readFileSync(join(models, 'B', 'path-length.json'), 'utf8'));
    expect(path.source).toBe('log');
    expect(path.perEpoch).toHaveLength(4);
    expect(path.perEpoch[3]).toBeGreaterThan(0);
    // kd-lens quantify reads a checkpoint like any exported network.
    const image = join(ws, 'datasets', 'tiny', 'images', readdirSync(join(ws, 'datasets', 'tiny', 'images'))[0]);
    const q = await runCli([
      'quantify',
      '--model',
      join(models, 'B', 'epoch-3.onnx'),
      '--layer',
      '/Relu_1',
      '--images',
      image,
      '--out',
      join(ws, 'q.json'),
      '--steps',
      '5'
    ]);
    expect(q.code, q.stderr).toBe(0);
    expect(existsSync(join(ws, 'q.json'))).toBe(true);
    expect(readFileSync(join(root, 'report.html'), 'utf8')).toMatch(
      /3 networks trained by this run on the ONNX architecture architecture\.onnx at 16 px, tap <b>\/Relu_1<\/b>/
    );
    const metrics = JSON.parse(readFileSync(join(root, 'metrics.json'), 'utf8'));
    const text = JSON.stringify(metrics);
    expect(text).toMatch(/"N_fg":\d/);
    expect(text).toMatch(/"rho":-?\d/);
  }, 120_000);

  it('--json prints one JSON object with the experiment and its metrics', async () => {
    if (!existsSync(join(ws, 'nets'))) await setup();
    const file = join(ws, 'run-json.json');
    writeFileSync(file, JSON.stringify(onnxConfig({ name: 'onnx-json', seeds: 2 })));
    const r = await runCli(['run', file, '--workspace', ws, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { experiment: string; metrics: Record<string, unknown> };
    expect(existsSync(join(ws, 'experiments', out.experiment, 'metrics.json'))).toBe(true);
    expect(readdirSync(join(ws, 'experiments', out.experiment, 'models')).sort()).toEqual(
      ['B', 'B-1', 'S', 'S-1', 'T'].sort()
    );
  }, 120_000);

  it('a loss that stays NaN rolls back three times, then fails naming the stage, with no checkpoint of the failed epoch', async () => {
    if (!existsSync(join(ws, 'nets'))) await setup();
    // A teacher whose conv2 weights overflow float32: its loss is NaN at any rate (a range test finds none).
    const plan = tinyArchPlan({ pretrained: true });
    const huge = teacherWeights(plan, readOnnxModel(readFileSync(join(FIXTURES, 'tiny-arch.onnx')), 'x'), 0);
    huge.set(
      'conv2.weight',
      huge.get('conv2.weight')!.map((v) => v * 1e38)
    );
    writeFileSync(join(ws, 'nets', 'overflow.onnx'), checkpointBytes(plan, huge));
    const nanConfig = (name: string): string => {
      const c = onnxConfig({ name });
      c.teacher = { ...(c.teacher as Record<string, unknown>), pretrained: 'nets/overflow.onnx' };
      const path = join(ws, `${name}.json`);
      writeFileSync(path, JSON.stringify(c));
      return path;
    };
    // A pretrained teacher file makes `kd-lens run` probe it first (ONNX stages): the probe's fine-tune diverges too.
    const probed = await runCli(['run', nanConfig('probe-nan'), '--workspace', ws]);
    expect(probed.code).not.toBe(0);
    expect(probed.stderr).toMatch(/probe: fine-tuning the teacher 2 epoch\(s\) and training the baseline 2 epoch\(s\)/);
    expect(probed.stderr).toMatch(/probe fine-tune: the loss is (NaN|-?Infinity) at epoch 1, step 1/);
    const r = await runCli(['run', nanConfig('onnx-nan'), '--workspace', ws, '--skip-probe']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /teacher finetune: the loss is (NaN|-?Infinity) at epoch 1, step 1 \(learning rate 0\.00000500\); lower the learning rate \(after 3 rollbacks to the last good state: rate halved, capped by a range test, halved\); no checkpoint of this epoch written/
    );
    const id = readdirSync(join(ws, 'experiments')).find((f) => f.startsWith('onnx-nan'))!;
    const root = join(ws, 'experiments', id);
    const state = JSON.parse(readFileSync(join(root, 'state.json'), 'utf8'));
    expect(state.status).toBe('failed');
    expect(state.stages['teacher finetune'].status).toBe('failed');
    expect(readdirSync(join(root, 'models', 'T')).filter((f) => f.endsWith('.onnx'))).toEqual(['epoch-0.onnx']);
    const events = readFileSync(join(root, 'events.jsonl'), 'utf8');
    expect(events.match(/rolled back to the epoch's start, rate halved/g)).toHaveLength(2);
    expect(events.match(/rolled back to the epoch's start, rate capped at 0\.0000100 by a range test/g)).toHaveLength(
      1
    );
  }, 60_000);

  it.each([
    [
      { architecture: { onnx: 'nets/sin-op.onnx' }, teacher: undefined },
      /sin-op\.onnx: node '\/Sin' is a Sin, an op without a gradient rule/
    ],
    [
      { architecture: { onnx: 'nets/size-24.onnx' } },
      /size-24\.onnx: the input 'input' is fixed at 24x24 pixels, but dataset 'tiny' has 16x16 images/
    ],
    [
      { architecture: { onnx: 'nets/no-classifier.onnx' } },
      /no-classifier\.onnx: no Gemm or MatMul node reads the image.*architecture\.classifier/
    ],
    [{ tap: '/fc/Gemm_nowhere' }, /tap: no node or output named '\/fc\/Gemm_nowhere'/],
    [
      { architecture: { onnx: 'nets/missing.onnx' } },
      /architecture\.onnx: .*missing\.onnx: cannot read the file \(ENOENT\)/
    ]
  ])('refuses before training, naming the file, and leaves nothing (%#)', async (over, message) => {
    if (!existsSync(join(ws, 'nets'))) await setup();
    const file = join(ws, 'bad.json');
    const config = onnxConfig(over as Record<string, unknown>);
    writeFileSync(file, JSON.stringify(config));
    const experiments = experimentCount(ws);
    const r = await runCli(['run', file, '--workspace', ws]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(experimentCount(ws)).toBe(experiments);
  });
});
