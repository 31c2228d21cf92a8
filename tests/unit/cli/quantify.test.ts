import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../helpers/tf';
import { runCli } from '../../helpers/cli';
import { tempDir, writeRgbPng, writeGreyPng, saveTinyCnn } from '../../helpers/fixtures';
import { decodeMessage, proto } from '../../../src/engine/onnx/protobuf';

interface QuantifyOutput {
  backend: string;
  backgroundMean?: number;
  images: {
    file: string;
    grid: number;
    entropy: number[][] | null;
    sigmaF2: number;
    meanEntropy: number | null;
    steps: number;
    lambda: number;
    effective: boolean;
    concepts?: { foreground: number; background: number; ratio: number } | null;
  }[];
}

describe('kd-lens quantify', () => {
  const tmp = tempDir();
  const dir = tmp.path;
  const model = join(dir, 'model');
  const a = join(dir, 'a.png'),
    b = join(dir, 'b.png'),
    ma = join(dir, 'ma.png'),
    mb = join(dir, 'mb.png'),
    small = join(dir, 'small.png');
  const base = (out: string) => [
    'quantify',
    '--model',
    model,
    '--layer',
    'fc1',
    '--grid',
    '4',
    '--samples',
    '8',
    '--steps',
    '25',
    '--lr',
    '1e-3',
    '--out',
    out
  ];

  beforeAll(async () => {
    await useBackend('wasm');
    await saveTinyCnn(model);
    await writeRgbPng(a, 20, 20, (r, c) => [r * 12, c * 12, 100]);
    await writeRgbPng(b, 20, 20, (r, c) => [(r * c) % 255, 50, c * 10]);
    await writeGreyPng(ma, 20, 20, (r, c) => (r >= 5 && r < 15 && c >= 5 && c < 15 ? 255 : 0));
    await writeGreyPng(mb, 20, 20, (r) => (r < 10 ? 1 : 0));
    await writeGreyPng(small, 10, 10, () => 255);
  });
  afterAll(() => tmp.cleanup());

  it('writes entropy maps and concept counts in the documented JSON', async () => {
    const out = join(dir, 'out.json');
    const run = await runCli([...base(out), '--images', a, b, '--masks', ma, mb, '--seed', '3']);
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as QuantifyOutput;
    expect(doc.backend).toBe('wasm');
    expect(doc.images).toHaveLength(2);
    const [first] = doc.images;
    expect(first.file).toBe(a);
    expect(first.grid).toBe(4);
    expect(first.entropy).toHaveLength(4);
    expect(first.entropy![0]).toHaveLength(4);
    expect(first.effective).toBe(true);
    expect(first.sigmaF2).toBeGreaterThan(0);
    expect(first.steps).toBeGreaterThan(0);
    expect(first.lambda).toBeGreaterThanOrEqual(7);
    const flat = first.entropy!.flat();
    expect(first.meanEntropy!).toBeCloseTo(flat.reduce((s, v) => s + v, 0) / flat.length, 4);
    // Concepts are counted against H_bar, the mean over images of their mean background entropy.
    const fgA = [
      [0, 0, 0, 0],
      [0, 1, 1, 0],
      [0, 1, 1, 0],
      [0, 0, 0, 0]
    ].flat(); // top-left pixel of each 5x5 cell
    const fgB = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    const bgMean = (e: number[], fg: number[]) => {
      const v = e.filter((_, i) => !fg[i]);
      return v.reduce((s, x) => s + x, 0) / v.length;
    };
    const hBar = (bgMean(flat, fgA) + bgMean(doc.images[1].entropy!.flat(), fgB)) / 2;
    expect(doc.backgroundMean!).toBeCloseTo(hBar, 4);
    const concepts = flat.map((h) => hBar - h > 0.2);
    expect(first.concepts).toEqual({
      foreground: concepts.filter((c, i) => c && fgA[i]).length,
      background: concepts.filter((c, i) => c && !fgA[i]).length,
      ratio: expect.any(Number)
    });
  });

  it('prints the same object with --json and is deterministic for a seed', async () => {
    const out1 = join(dir, 'j1.json'),
      out2 = join(dir, 'j2.json');
    const r1 = await runCli([...base(out1), '--images', a, '--json']);
    const r2 = await runCli([...base(out2), '--images', a, '--json']);
    expect(r1.code).toBe(0);
    expect(JSON.parse(r1.stdout)).toEqual(JSON.parse(readFileSync(out1, 'utf8')));
    expect(JSON.parse(r1.stdout).images[0].entropy).toEqual(JSON.parse(r2.stdout).images[0].entropy);
  });

  it('marks an image not effective when the feature ignores noise', async () => {
    const flat = join(dir, 'flat-model');
    await saveTinyCnn(flat, 16, 1, true);
    const out = join(dir, 'flat.json');
    const run = await runCli([
      'quantify',
      '--model',
      flat,
      '--layer',
      'fc1',
      '--grid',
      '4',
      '--samples',
      '4',
      '--steps',
      '3',
      '--images',
      a,
      '--out',
      out
    ]);
    expect(run.code).toBe(0);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as QuantifyOutput;
    expect(doc.images[0].effective).toBe(false);
    expect(doc.images[0].sigmaF2).toBe(0);
    expect(doc.images[0].entropy).toBeNull();
  });

  describe('bad input: a clear message, a non-zero exit, no output file', () => {
    const expectFailure = async (args: string[], out: string, pattern: RegExp) => {
      const run = await runCli(args);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(pattern);
      expect(existsSync(out)).toBe(false);
    };

    it('a missing model.json', async () => {
      const out = join(dir, 'e1.json');
      await expectFailure(
        ['quantify', '--model', join(dir, 'nowhere'), '--layer', 'fc1', '--images', a, '--out', out],
        out,
        /nowhere\/model\.json: file not found/
      );
    });

    it('a corrupt model.json and truncated weights', async () => {
      const broken = join(dir, 'broken');
      await saveTinyCnn(broken);
      const out = join(dir, 'e2.json');
      truncateSync(join(broken, 'weights.bin'), 100);
      await expectFailure(
        ['quantify', '--model', broken, '--layer', 'fc1', '--images', a, '--out', out],
        out,
        /weights\.bin: 100 bytes of weights, but model\.json describes \d+ \(corrupt or truncated\)/
      );
      writeFileSync(join(broken, 'model.json'), '{"modelTopology": ');
      await expectFailure(
        ['quantify', '--model', broken, '--layer', 'fc1', '--images', a, '--out', out],
        out,
        /model\.json: not valid JSON/
      );
    });

    it('a tap that does not exist lists the layers that do', async () => {
      const out = join(dir, 'e3.json');
      await expectFailure(
        ['quantify', '--model', model, '--layer', 'fc9', '--images', a, '--out', out],
        out,
        /no layer named 'fc9'; its layers are: conv, pool, flatten, fc1, fc3/
      );
    });

    it('an unreadable image', async () => {
      const junk = join(dir, 'junk.png');
      writeFileSync(junk, 'this is not a png');
      const out = join(dir, 'e4.json');
      await expectFailure([...base(out), '--images', a, junk], out, /junk\.png: cannot read the image/);
      await expectFailure([...base(out), '--images', join(dir, 'missing.png')], out, /missing\.png: file not found/);
    });

    it('a mask whose size differs from its image', async () => {
      const out = join(dir, 'e5.json');
      await expectFailure(
        [...base(out), '--images', a, '--masks', small],
        out,
        /small\.png: the mask is 10x10 but its image .*a\.png is 20x20/
      );
    });

    it('flags with bad values', async () => {
      const out = join(dir, 'e6.json');
      await expectFailure([...base(out), '--images', a, '--masks', ma, mb], out, /--masks: got 2 masks for 1 images/);
      await expectFailure(
        ['quantify', '--model', model, '--layer', 'fc1', '--images', a, '--grid', 'x', '--out', out],
        out,
        /--grid: expected a number, got 'x'/
      );
      await expectFailure(
        ['quantify', '--model', model, '--layer', 'fc1', '--images', a, '--mode', 'fast', '--out', out],
        out,
        /--mode: expected calibrated or converged/
      );
      await expectFailure(
        ['quantify', '--model', model, '--layer', 'fc1', '--images', a, '--grid', '32', '--out', out],
        out,
        /--grid 32 does not fit the model's 16x16 input/
      );
    });
  });
  it('runs on ONNX Runtime by default and gives the maps of --engine tfjs within 1e-3 nats', async () => {
    const runEngine = async (engine: string[]): Promise<QuantifyOutput & { engine: string; engineReason: string }> => {
      const out = join(dir, `engine-${engine.join('') || 'default'}.json`);
      const run = await runCli([...base(out), '--images', a, b, '--seed', '4', ...engine]);
      expect(run.code, run.stderr).toBe(0);
      return JSON.parse(readFileSync(out, 'utf8'));
    };
    const auto = await runEngine([]);
    const tfjs = await runEngine(['--engine', 'tfjs']);
    expect(auto.engine).toBe('onnx');
    expect(auto.engineReason).toMatch(/^onnx cpu/);
    expect(tfjs.engine).toBe('tfjs');
    auto.images.forEach((im, i) => {
      expect(im.steps).toBe(tfjs.images[i].steps);
      const worst = Math.max(...im.entropy!.flat().map((h, k) => Math.abs(h - tfjs.images[i].entropy!.flat()[k])));
      expect(worst).toBeLessThan(1e-3);
    });
    const bad = await runCli([...base(join(dir, 'bad-engine.json')), '--images', a, '--engine', 'torch']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--engine: expected auto, onnx, tfjs, got 'torch'/);
    expect(existsSync(join(dir, 'bad-engine.json'))).toBe(false);
  });
  it('quantifies an ONNX file at a graph output, and refuses bad ONNX input with no output written', async () => {
    const onnxFile = join(__dirname, '../../fixtures/onnx/tiny-torch.onnx');
    const args = (model: string, layer: string, out: string): string[] => [
      'quantify',
      '--model',
      model,
      '--layer',
      layer,
      '--grid',
      '4',
      '--samples',
      '8',
      '--steps',
      '10',
      '--images',
      a,
      b,
      '--out',
      out
    ];
    const out = join(dir, 'onnx.json');
    const graphs = join(dir, 'graphs');
    const run = await runCli([...args(onnxFile, 'logits', out), '--save-graph', graphs]);
    expect(run.code, run.stderr).toBe(0);
    const stepGraph = proto.messages(decodeMessage(new Uint8Array(readFileSync(join(graphs, 'step.onnx')))), 7)[0];
    expect(proto.messages(stepGraph, 11).map((v) => proto.string(v, 1))).toEqual([
      'kd_x',
      'kd_eps',
      'kd_sigma',
      'kd_clean',
      'kd_inv_sigma_f2',
      'kd_lambda'
    ]);
    expect(
      proto
        .messages(stepGraph, 1)
        .some((n) => proto.string(n, 4) === 'ConvTranspose' && proto.string(n, 3).includes('_grad'))
    ).toBe(true);
    expect(existsSync(join(graphs, 'features.onnx'))).toBe(true);
    const doc = JSON.parse(readFileSync(out, 'utf8')) as QuantifyOutput & { engine: string };
    expect(doc.engine).toBe('onnx');
    expect(doc.images.every((im) => im.effective && im.entropy!.flat().every(Number.isFinite))).toBe(true);
    const cut = join(dir, 'cut.onnx');
    writeFileSync(cut, readFileSync(onnxFile).subarray(0, 5000));
    for (const [model, layer, message] of [
      [cut, 'logits', /cut.onnx: not (a readable ONNX file|an ONNX model)/],
      [onnxFile, 'nope', /tiny-torch.onnx: no node or value named 'nope'; the names are: .*logits/],
      [join(dir, 'missing.onnx'), 'logits', /missing.onnx: cannot read the ONNX file \(ENOENT\)/]
    ] as const) {
      const bad = join(dir, 'bad-onnx.json');
      const r = await runCli(args(model, layer, bad));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(existsSync(bad)).toBe(false);
    }
    const tf = await runCli([...args(onnxFile, 'logits', join(dir, 'bad-onnx.json')), '--engine', 'tfjs']);
    expect(tf.code).not.toBe(0);
    expect(tf.stderr).toMatch(/--engine tfjs cannot run an ONNX file/);
  });
});
