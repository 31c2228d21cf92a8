/*
 * The workspace behind a running server (issue 21): dataset names in any script get a working id
 * and keep their name; symbolic links never lead a read or a write outside the workspace; a damaged
 * dataset is listed as unreadable and answered 422 naming the file; relative paths are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { importDataset } from '../../../src/engine/data';
import { decodeNpy } from '../../../src/engine/store/tensors';
import { writeImage } from '../../helpers/data-fixtures';
import { call, startTestServer, type TestServer } from '../../helpers/serve';

let t: TestServer;
let src: string;
let outside: string;
beforeAll(async () => {
  t = await startTestServer();
  src = join(t.workspace, 'sources', 'birds');
  for (const c of ['ant', 'bee'])
    for (let i = 0; i < 3; i++) await writeImage(join(src, c, `${i}.png`), 10, 10, (x, y) => [x * 20, y * 20, i * 40]);
  outside = join(t.root, 'outside');
  await importDataset({ workspace: outside, format: 'folder', src, name: 'linked', size: 8 });
}, 30_000);
afterAll(async () => {
  await t.close();
});

const hash = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 8);

describe('dataset names in any script', () => {
  it('starts an import for Cyrillic, CJK and punctuation-only names with a working id', async () => {
    for (const [name, id] of [
      ['Птицы', 'ptitsy'],
      ['鳥', `ds-${hash('鳥')}`],
      ['---', `ds-${hash('---')}`],
      ['..', `ds-${hash('..')}`]
    ]) {
      const r = await call(t.server, 'importDataset', { format: 'folder', src, name });
      expect([name, r.status, r.json.error]).toEqual([name, 200, undefined]);
      const { jobId } = r.json.result as { jobId: string };
      const jobs = (await call(t.server, 'listJobs', {})).json.result as { id: string; datasetId?: string }[];
      expect(jobs.find((j) => j.id === jobId)?.datasetId).toBe(id);
      await call(t.server, 'cancelJob', { jobId });
    }
  });

  it('imports under that id and keeps the name for display', async () => {
    await importDataset({ workspace: t.workspace, format: 'folder', src, name: '鳥', size: 8 });
    const list = (await call(t.server, 'listDatasets', {})).json.result as { id: string; name: string }[];
    expect(list.find((d) => d.name === '鳥')?.id).toBe(`ds-${hash('鳥')}`);
    const got = await call(t.server, 'getDataset', { id: `ds-${hash('鳥')}` });
    expect([got.status, (got.json.result as { name: string }).name]).toEqual([200, '鳥']);
  });
});

describe('symbolic links', () => {
  it('refuses an import through a link in the workspace that leads outside it', async () => {
    symlinkSync(join(outside, 'datasets'), join(t.workspace, 'sneaky'));
    const r = await call(t.server, 'importDataset', { format: 'folder', src: join(t.workspace, 'sneaky'), name: 'x' });
    expect([r.status, r.json.error]).toEqual([403, expect.stringMatching(/outside the workspace/)]);
  });

  it('refuses to rename or edit a dataset whose folder is a link, leaving the target untouched', async () => {
    mkdirSync(join(t.workspace, 'datasets'), { recursive: true });
    symlinkSync(join(outside, 'datasets', 'linked'), join(t.workspace, 'datasets', 'linked'));
    const manifestFile = join(outside, 'datasets', 'linked', 'dataset.json');
    const before = readFileSync(manifestFile, 'utf8');
    const renamed = await call(t.server, 'renameDataset', { id: 'linked', name: 'pwned' });
    expect([renamed.status, renamed.json.error]).toEqual([
      403,
      expect.stringMatching(/dataset 'linked' is a link to a place outside the workspace/)
    ]);
    const sampleId = (JSON.parse(before) as { samples: { id: string; mask: string }[] }).samples[0];
    const maskBefore = readFileSync(join(outside, 'datasets', 'linked', sampleId.mask));
    const data = Buffer.alloc(64, 0).toString('base64');
    const edit = await call(t.server, 'writeMask', {
      datasetId: 'linked',
      sampleId: sampleId.id,
      width: 8,
      height: 8,
      data
    });
    expect(edit.status).toBe(403);
    expect(readFileSync(manifestFile, 'utf8')).toBe(before);
    expect(readFileSync(join(outside, 'datasets', 'linked', sampleId.mask))).toEqual(maskBefore);
  });
});

describe('symbolic links when creating', () => {
  it('refuses to import into a workspace whose datasets folder is a link', async () => {
    const ws2 = join(t.root, 'ws2');
    mkdirSync(join(t.root, 'elsewhere'), { recursive: true });
    mkdirSync(ws2, { recursive: true });
    symlinkSync(join(t.root, 'elsewhere'), join(ws2, 'datasets'));
    await expect(importDataset({ workspace: ws2, format: 'folder', src, name: 'x', size: 8 })).rejects.toThrow(
      /'datasets' in the workspace is a symbolic link/
    );
    expect(readdirSync(join(t.root, 'elsewhere'))).toEqual([]);
  });
});

describe('damaged files and relative paths', () => {
  it('lists a dataset with a damaged dataset.json as unreadable, and answers 422 naming the file', async () => {
    await importDataset({ workspace: t.workspace, format: 'folder', src, name: 'broken', size: 8 });
    await importDataset({ workspace: t.workspace, format: 'folder', src, name: 'shape', size: 8 });
    const file = join(t.workspace, 'datasets', 'broken', 'dataset.json');
    writeFileSync(file, '{"id": "broken", "sam');
    writeFileSync(join(t.workspace, 'datasets', 'shape', 'dataset.json'), JSON.stringify({ id: 'shape', samples: 3 }));
    const later = new Date(Date.now() + 60_000); // a hand edit after the summary was written
    for (const id of ['broken', 'shape']) utimesSync(join(t.workspace, 'datasets', id, 'dataset.json'), later, later);
    const list = (await call(t.server, 'listDatasets', {})).json.result as { id: string; error?: string }[];
    expect(list.find((d) => d.id === 'broken')?.error).toMatch(/dataset\.json: not valid JSON/);
    expect(list.find((d) => d.id === 'shape')?.error).toMatch(/dataset\.json: field /);
    const bad = await call(t.server, 'getDataset', { id: 'broken' });
    expect([bad.status, bad.json.error]).toEqual([422, expect.stringContaining(`${file}: not valid JSON`)]);
    const shape = await call(t.server, 'getDataset', { id: 'shape' });
    expect([shape.status, shape.json.error]).toEqual([422, expect.stringMatching(/shape.dataset\.json: field /)]);
    expect(() => decodeNpy(new Uint8Array([1, 2, 3]), 'maps.npy')).toThrow(
      expect.objectContaining({ status: 422, message: 'maps.npy: not a .npy file' })
    );
  });

  it('refuses relative paths in chooseFolder and importDataset (they would resolve against the server cwd)', async () => {
    for (const path of ['..', 'sources', './x']) {
      const r = await call(t.server, 'chooseFolder', { purpose: 'import', path });
      expect([path, r.status, r.json.error]).toEqual([path, 400, expect.stringMatching(/must be an absolute path/)]);
    }
    const r = await call(t.server, 'importDataset', { format: 'folder', src: '../x', name: 'x' });
    expect([r.status, r.json.error]).toEqual([400, "source folder '../x' must be an absolute path"]);
  });
});
