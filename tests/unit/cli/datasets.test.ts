import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli';
import { tempDir } from '../../helpers/fixtures';
import { writeImage, writeGrey, maskCount } from '../../helpers/data-fixtures';

describe('kd-lens datasets', () => {
  const tmp = tempDir('kd-lens-cli-datasets-');
  const ws = join(tmp.path, 'ws');

  beforeAll(async () => {
    const src = join(tmp.path, 'src');
    for (const [c, n] of [
      ['ant', 'a1'],
      ['ant', 'a2'],
      ['bee', 'b1']
    ]) {
      await writeImage(join(src, 'images', c, `${n}.png`), 8, 8, () => [5, 6, 7]);
      await writeGrey(join(src, 'masks', c, `${n}.png`), 8, 8, (x) => (x < 2 ? 255 : 0));
    }
    const run = await runCli([
      'import',
      '--format',
      'folder',
      '--src',
      src,
      '--name',
      'Bugs',
      '--size',
      '8',
      '--workspace',
      ws,
      '--json'
    ]);
    expect(run.code).toBe(0);
    mkdirSync(join(ws, 'datasets', 'broken'));
    writeFileSync(join(ws, 'datasets', 'broken', 'dataset.json'), 'not json');
  });
  afterAll(() => tmp.cleanup());

  it('lists datasets, and reports broken ones without failing', async () => {
    const json = await runCli(['datasets', 'list', '--workspace', ws, '--json']);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.stdout) as {
      datasets: { id: string; samples: number; classes: Record<string, number> }[];
      problems: { id: string; reason: string }[];
    };
    expect(doc.datasets.map((d) => [d.id, d.samples, d.classes])).toEqual([['bugs', 3, { ant: 2, bee: 1 }]]);
    expect(doc.problems[0].id).toBe('broken');
    expect(doc.problems[0].reason).toMatch(/not valid JSON/);
    const text = await runCli(['datasets', 'list', '--workspace', ws]);
    expect(text.stdout).toMatch(/^ID +FORMAT +SAMPLES/);
    expect(text.stdout).toMatch(/bugs +folder +3 +2 +8px +Bugs/);
    expect(text.stderr).toMatch(/dataset 'broken' cannot be read/);
  });

  it('shows one dataset', async () => {
    const json = await runCli(['datasets', 'show', 'bugs', '--workspace', ws, '--json']);
    const m = JSON.parse(json.stdout) as { id: string; samples: unknown[]; classes: string[] };
    expect([m.id, m.samples.length, m.classes]).toEqual(['bugs', 3, ['ant', 'bee']]);
    const text = await runCli(['datasets', 'show', 'bugs', '--workspace', ws]);
    expect(text.stdout).toMatch(/masks +folder 3/);
    expect(text.stdout).toMatch(/ant: 2/);
    const missing = await runCli(['datasets', 'show', 'nope', '--workspace', ws]);
    expect([missing.code, /no dataset 'nope'/.test(missing.stderr)]).toEqual([1, true]);
  });

  it('exports the masks as PNGs named after the samples', async () => {
    const out = join(tmp.path, 'exported');
    const run = await runCli(['datasets', 'export-masks', 'bugs', '--out', out, '--workspace', ws]);
    expect(run.code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['ant-a1.png', 'ant-a2.png', 'bee-b1.png']);
    expect(await maskCount(join(out, 'ant-a1.png'))).toBe(16);
  });

  it('rejects unknown subcommands and missing arguments', async () => {
    expect((await runCli(['datasets', 'frobnicate', '--workspace', ws])).code).toBe(2);
    expect((await runCli(['datasets', 'show', '--workspace', ws])).stderr).toMatch(/needs a dataset ID/);
    expect((await runCli(['datasets', 'export-masks', 'bugs', '--workspace', ws])).stderr).toMatch(/needs --out DIR/);
    expect((await runCli(['datasets', 'show', '../x', '--workspace', ws])).stderr).toMatch(/not a dataset id/);
  });
});
