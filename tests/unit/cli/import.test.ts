import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli';
import { tempDir } from '../../helpers/fixtures';
import { writeImage, writeVocXml } from '../../helpers/data-fixtures';

describe('kd-lens import', () => {
  const tmp = tempDir('kd-lens-cli-import-');
  const ws = join(tmp.path, 'ws');
  const voc = join(tmp.path, 'voc');

  beforeAll(async () => {
    await writeImage(join(voc, 'JPEGImages', '2008_000123.jpg'), 60, 40, () => [120, 30, 200]);
    writeVocXml(voc, '2008_000123', { width: 60, height: 40 }, [
      { name: 'dog', box: [52, 1, 40, 10] },
      { name: 'dog', box: [5, 5, 30, 30] },
      { name: 'cat', box: [31, 5, 58, 38] }
    ]);
  });
  afterAll(() => tmp.cleanup());

  it('prints the documented JSON: dataset, samples, classes, skipped', async () => {
    const run = await runCli([
      'import',
      '--format',
      'voc',
      '--src',
      voc,
      '--name',
      'VOC Mini',
      '--size',
      '16',
      '--workspace',
      ws,
      '--json'
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      dataset: 'voc-mini',
      samples: 2,
      classes: { cat: 1, dog: 1 },
      skipped: [
        { file: 'Annotations/2008_000123.xml', reason: 'object 0 (dog): xmax 40 is less than xmin 52 — object skipped' }
      ]
    });
    expect(existsSync(join(ws, 'datasets', 'voc-mini', 'masks', '2008_000123-1.png'))).toBe(true);
  });

  it('prints a readable summary without --json, and honours KD_LENS_WORKSPACE', async () => {
    const envWs = join(tmp.path, 'envws');
    process.env.KD_LENS_WORKSPACE = envWs;
    try {
      const run = await runCli([
        'import',
        '--format',
        'voc',
        '--src',
        voc,
        '--name',
        'mini',
        '--size',
        '16',
        '--classes',
        'cat'
      ]);
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/imported 1 samples into dataset 'mini'/);
      expect(run.stdout).toMatch(/cat {2}1/);
      expect(existsSync(join(envWs, 'datasets', 'mini', 'dataset.json'))).toBe(true);
    } finally {
      delete process.env.KD_LENS_WORKSPACE;
    }
  });

  it('exits 1 with the reasons when nothing could be imported, writing nothing', async () => {
    const bad = join(tmp.path, 'bad');
    mkdirSync(join(bad, 'k'), { recursive: true });
    writeFileSync(join(bad, 'k', 'x.jpg'), 'not a jpeg');
    const run = await runCli([
      'import',
      '--format',
      'folder',
      '--src',
      bad,
      '--name',
      'bad',
      '--workspace',
      ws,
      '--json'
    ]);
    expect(run.code).toBe(1);
    const doc = JSON.parse(run.stdout) as { samples: number; skipped: { file: string; reason: string }[] };
    expect(doc.samples).toBe(0);
    expect(doc.skipped[0].file).toBe('k/x.jpg');
    expect(run.stderr).toMatch(/nothing could be imported/);
    expect(existsSync(join(ws, 'datasets', 'bad'))).toBe(false);
  });

  it('--format voc on a download nested as top/VOCdevkit/VOC2012 imports from the VOC root found there', async () => {
    const root = join(tmp.path, 'nested', 'VOCtrainval_11-May-2012', 'VOCdevkit', 'VOC2012');
    await writeImage(join(root, 'JPEGImages', '2008_000123.jpg'), 60, 40, () => [120, 30, 200]);
    writeVocXml(root, '2008_000123', { width: 60, height: 40 }, [{ name: 'cat', box: [31, 5, 58, 38] }]);
    const src = join(tmp.path, 'nested', 'VOCtrainval_11-May-2012');
    const args = ['import', '--format', 'voc', '--src', src, '--name', 'nested', '--size', '16', '--workspace', ws];
    const run = await runCli([...args, '--json']);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(JSON.parse(run.stdout)).toMatchObject({ dataset: 'nested', samples: 1, classes: { cat: 1 } });
  });

  it('rejects bad flags with exit code 2 and missing paths with exit code 1', async () => {
    const fmt = await runCli(['import', '--format', 'png', '--src', voc, '--name', 'x', '--workspace', ws]);
    expect([fmt.code, fmt.stderr.includes("expected folder, voc, cub, coco, got 'png'")]).toEqual([2, true]);
    const size = await runCli([
      'import',
      '--format',
      'voc',
      '--src',
      voc,
      '--name',
      'x',
      '--size',
      '3',
      '--workspace',
      ws
    ]);
    expect([size.code, /size must be a whole number from 8 to 1024/.test(size.stderr)]).toEqual([2, true]);
    const missing = await runCli([
      'import',
      '--format',
      'voc',
      '--src',
      join(tmp.path, 'nope'),
      '--name',
      'x',
      '--workspace',
      ws
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/does not exist/);
  });
});
