/*
 * `kd-lens run` with an ONNX architecture on tiny data: the tiny PyTorch export is the teacher
 * (pretrained) and the graph of S and B; metrics.json has numbers, the teacher started from the
 * file's weights, S and B share their start; each refusal exits non-zero and leaves nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../helpers/fixtures';
import { writeTinyDataset } from '../../helpers/tiny-dataset';
import { tinyConfig } from '../../helpers/tiny-config';
import { runCli } from '../../helpers/cli';
import { readOnnxModel } from '../../../src/engine/onnx/onnx-file';

const FIXTURES = join(__dirname, '../../fixtures/onnx-arch');
const weightsOf = (file: string, name: string): number[] =>
  Array.from(readOnnxModel(readFileSync(file), file).initializers.get(name)!.data as Float32Array);

function onnxConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  const { architecture: _a, tap: _t, ...rest } = tinyConfig({ name: 'onnx-tiny' });
  return {
    ...rest,
    architecture: { onnx: 'nets/tiny-arch.onnx' },
    tap: '/Relu_1',
    teacher: {
      ...rest.teacher,
      source: null,
      pretrained: 'nets/tiny-arch.onnx',
      pretrain: { ...rest.teacher.pretrain, epochs: 0 }
    },
    ...over
  };
}

describe('kd-lens run with an ONNX architecture', () => {
  const tmp = tempDir('kd-onnx-run-');
  const ws = tmp.path;
  afterAll(() => tmp.cleanup());
  const setup = async (): Promise<void> => {
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    mkdirSync(join(ws, 'nets'), { recursive: true });
    for (const f of ['tiny-arch.onnx', 'sin-op.onnx', 'size-24.onnx', 'no-classifier.onnx'])
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
    const runs = readdirSync(join(ws, 'onnx-runs'));
    expect(runs).toHaveLength(1);
    const folder = join(ws, 'onnx-runs', runs[0]);
    // The teacher's first checkpoint holds the file's trunk; S and B share their start.
    for (const w of ['conv1.weight', 'bn1.weight', 'bn1.running_var', 'conv2.weight'])
      expect(weightsOf(join(folder, 'teacher', 'epoch-0.onnx'), w), w).toEqual(
        weightsOf(join(FIXTURES, 'tiny-arch.onnx'), w)
      );
    for (const w of ['conv1.weight', 'conv2.weight', 'fc.weight'])
      expect(weightsOf(join(folder, 'student-s0', 'epoch-0.onnx'), w), w).toEqual(
        weightsOf(join(folder, 'baseline-s0', 'epoch-0.onnx'), w)
      );
    expect(weightsOf(join(folder, 'student-s0', 'epoch-0.onnx'), 'conv1.weight')).not.toEqual(
      weightsOf(join(FIXTURES, 'tiny-arch.onnx'), 'conv1.weight')
    );
    expect(existsSync(join(folder, 'architecture.onnx'))).toBe(true);
    const frozen = JSON.parse(readFileSync(join(folder, 'run.json'), 'utf8'));
    expect(frozen.architecture).toEqual({ onnx: join(folder, 'architecture.onnx'), classifier: null });
    expect(frozen.teacher.pretrained).toBe(join(folder, 'architecture.onnx'));
    // kd-lens quantify reads a checkpoint like any exported network.
    const image = join(ws, 'datasets', 'tiny', 'images', readdirSync(join(ws, 'datasets', 'tiny', 'images'))[0]);
    const q = await runCli([
      'quantify',
      '--model',
      join(folder, 'baseline-s0', 'epoch-3.onnx'),
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
    const [experiment] = readdirSync(join(ws, 'experiments'));
    const metrics = JSON.parse(readFileSync(join(ws, 'experiments', experiment, 'metrics.json'), 'utf8'));
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
    const folder = readdirSync(join(ws, 'onnx-runs')).find((f) => f.startsWith('onnx-json'))!;
    expect(readdirSync(join(ws, 'onnx-runs', folder)).sort()).toEqual(
      [
        'architecture.onnx',
        'baseline-s0',
        'baseline-s1',
        'run.json',
        'student-s0',
        'student-s1',
        'study.json',
        'teacher'
      ].sort()
    );
  }, 120_000);

  it('a training that fails (a non-finite loss) exits non-zero and leaves no run folder or experiment', async () => {
    if (!existsSync(join(ws, 'nets'))) await setup();
    const file = join(ws, 'nan.json');
    const c = onnxConfig({ name: 'onnx-nan' });
    (c.teacher as { finetune: { lr: number; lrEnd: number } }).finetune = {
      ...(c.teacher as { finetune: { lr: number; lrEnd: number } }).finetune,
      lr: 1e30,
      lrEnd: 1e30
    };
    writeFileSync(file, JSON.stringify(c));
    const experiments = existsSync(join(ws, 'experiments')) ? readdirSync(join(ws, 'experiments')).length : 0;
    const r = await runCli(['run', file, '--workspace', ws]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /tiny-arch\.onnx: the loss is (NaN|-?Infinity) at epoch \d; no checkpoint of this epoch written/
    );
    expect(readdirSync(join(ws, 'onnx-runs')).filter((f) => f.startsWith('onnx-nan'))).toEqual([]);
    expect(existsSync(join(ws, 'experiments')) ? readdirSync(join(ws, 'experiments')).length : 0).toBe(experiments);
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
    const before = existsSync(join(ws, 'onnx-runs')) ? readdirSync(join(ws, 'onnx-runs')).length : 0;
    const experiments = existsSync(join(ws, 'experiments')) ? readdirSync(join(ws, 'experiments')).length : 0;
    const r = await runCli(['run', file, '--workspace', ws]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(ws, 'onnx-runs')) ? readdirSync(join(ws, 'onnx-runs')).length : 0).toBe(before);
    expect(existsSync(join(ws, 'experiments')) ? readdirSync(join(ws, 'experiments')).length : 0).toBe(experiments);
  });
});
