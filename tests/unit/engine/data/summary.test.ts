/*
 * The dataset list reads summary.json, not every manifest: a summary as new as its manifest is
 * used as it is (the manifest is not parsed), a missing or older one is rebuilt and saved, and
 * saving a manifest rewrites its summary.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { existsSync, readFileSync, writeFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { listDatasetSummaries, datasetSummary, loadDataset } from '../../../../src/engine/data';
import { saveManifest } from '../../../../src/engine/data/store';
import { tempDir } from '../../../helpers/fixtures';
import { writeTinyDataset } from '../../../helpers/tiny-dataset';

describe('dataset summaries', () => {
  const tmp = tempDir();
  const ws = tmp.path;
  afterAll(() => tmp.cleanup());
  const dir = (id: string): string => join(ws, 'datasets', id);

  it('builds a missing summary from the manifest, saves it, and then lists without parsing the manifest', async () => {
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    expect(existsSync(join(dir('tiny'), 'summary.json'))).toBe(false);
    const first = await datasetSummary(ws, 'tiny');
    expect(first).toMatchObject({ id: 'tiny', samples: 30, skipped: 0, edited: 0, size: 16 });
    expect(first.classes.map((c) => c.count)).toEqual([10, 10, 10]);
    expect(JSON.parse(readFileSync(join(dir('tiny'), 'summary.json'), 'utf8'))).toEqual(first);
    // A manifest that would not parse, but older than the summary: the list does not read it.
    const manifest = join(dir('tiny'), 'dataset.json');
    const good = readFileSync(manifest, 'utf8');
    writeFileSync(manifest, '{ not json');
    const old = new Date(Date.now() - 60_000);
    utimesSync(manifest, old, old);
    expect(await listDatasetSummaries(ws)).toEqual([first]);
    writeFileSync(manifest, good);
  });

  it('rebuilds a summary older than its manifest (a hand edit), and saveManifest keeps it current', async () => {
    const m = await loadDataset(ws, 'tiny');
    const edited = { ...m, name: 'renamed by hand', samples: m.samples.slice(1) };
    writeFileSync(join(dir('tiny'), 'dataset.json'), JSON.stringify(edited));
    const future = new Date(Date.now() + 60_000);
    utimesSync(join(dir('tiny'), 'dataset.json'), future, future);
    expect(await datasetSummary(ws, 'tiny')).toMatchObject({ name: 'renamed by hand', samples: 29 });
    await saveManifest(ws, { ...m, samples: m.samples.map((s, i) => ({ ...s, edited: i < 2 })) });
    expect(JSON.parse(readFileSync(join(dir('tiny'), 'summary.json'), 'utf8'))).toMatchObject({ edited: 2 });
    expect(await datasetSummary(ws, 'tiny')).toMatchObject({ name: 'tiny', samples: 30, edited: 2 });
  });

  it('lists a broken dataset as unreadable with the reason, and reports it; the others are listed as they are', async () => {
    await writeTinyDataset(ws, 'other', { seed: 2 });
    writeFileSync(join(dir('other'), 'dataset.json'), '{}');
    const problems: string[] = [];
    const list = await listDatasetSummaries(ws, (id, message) => problems.push(`${id}: ${message}`));
    expect(list.map((d) => [d.id, d.error === undefined])).toEqual([
      ['other', false],
      ['tiny', true]
    ]);
    expect(list[0]).toMatchObject({ samples: 0, error: expect.stringMatching(/dataset\.json: field /) });
    expect(problems[0]).toMatch(/^other: .*dataset\.json: field /);
  });

  it('rebuilds a damaged summary.json from the manifest (it is only a cache)', async () => {
    const before = await datasetSummary(ws, 'tiny');
    writeFileSync(join(dir('tiny'), 'summary.json'), '{"id": "tiny", "samp');
    const future = new Date(Date.now() + 120_000);
    utimesSync(join(dir('tiny'), 'summary.json'), future, future);
    expect(await datasetSummary(ws, 'tiny')).toEqual(before);
  });
});
