import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdirSync, writeFileSync, existsSync, readdirSync, renameSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { importDataset, listDatasets, loadDataset, datasetPath } from '../../../../src/engine/data';
import { recoverInterrupted } from '../../../../src/engine/data/store';
import { tempDir } from '../../../helpers/fixtures';
import { writeImage } from '../../../helpers/data-fixtures';

describe('datasets in the workspace', () => {
  const tmp = tempDir('kd-lens-store-');
  const ws = join(tmp.path, 'ws');

  beforeAll(async () => {
    const src = join(tmp.path, 'src');
    await writeImage(join(src, 'k', 'a.png'), 10, 10, () => [9, 9, 9]);
    await importDataset({ workspace: ws, format: 'folder', src, name: 'one', size: 8 });
    await importDataset({ workspace: ws, format: 'folder', src, name: 'two', size: 8 });
  });
  afterAll(() => tmp.cleanup());

  it('keeps every path inside its dataset', () => {
    expect(datasetPath(ws, 'one', 'images/a.png')).toBe(join(ws, 'datasets', 'one', 'images', 'a.png'));
    expect(() => datasetPath(ws, 'one', '../two/dataset.json')).toThrow(/escapes dataset 'one'/);
    expect(() => datasetPath(ws, '..', 'x')).toThrow(/not a dataset id/);
    expect(() => datasetPath(ws, 'a/b')).toThrow(/not a dataset id/);
  });

  it('lists readable datasets and reports broken ones without failing', async () => {
    mkdirSync(join(ws, 'datasets', 'broken'));
    writeFileSync(join(ws, 'datasets', 'broken', 'dataset.json'), '{"version": 1, "id": "broken"}');
    mkdirSync(join(ws, 'datasets', 'empty'));
    mkdirSync(join(ws, 'datasets', '.hidden.tmp-1-ab'), { recursive: true });
    const problems: string[] = [];
    const all = await listDatasets(ws, (id, msg) => problems.push(`${id}: ${msg}`));
    expect(all.map((m) => m.id)).toEqual(['one', 'two']);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^broken: .*dataset\.json: field name: /);
    expect(problems[1]).toMatch(/^empty: .*file not found/);
    expect(await listDatasets(join(tmp.path, 'nowhere'))).toEqual([]);
  });

  it('explains a missing dataset and a manifest that names another id', async () => {
    await expect(loadDataset(ws, 'nope')).rejects.toThrow(/no dataset 'nope' in the workspace/);
    const copy = join(ws, 'datasets', 'copy');
    mkdirSync(copy);
    writeFileSync(join(copy, 'dataset.json'), JSON.stringify(await loadDataset(ws, 'one')));
    await expect(loadDataset(ws, 'copy')).rejects.toThrow(/says 'one' but the folder is 'copy'/);
  });

  it('recovers from an import that died during the final swap', async () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    // The old dataset was set aside and the new one never arrived: it is put back.
    renameSync(join(ws, 'datasets', 'two'), join(ws, 'datasets', `.two.old-${dead}-00ff`));
    // A half-written temporary folder of a dead process is removed.
    mkdirSync(join(ws, 'datasets', `.one.tmp-${dead}-abcd`, 'images'), { recursive: true });
    await recoverInterrupted(ws);
    expect(existsSync(join(ws, 'datasets', 'two', 'dataset.json'))).toBe(true);
    expect(readdirSync(join(ws, 'datasets')).filter((n) => n.startsWith('.') && n !== '.hidden.tmp-1-ab')).toEqual([]);
  });
});
