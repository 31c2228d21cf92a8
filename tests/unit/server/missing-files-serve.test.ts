/*
 * Missing workspace files behind a running server (issue 21): an id the caller named that does not
 * exist is 404; a file that an existing dataset or experiment needs and that is gone is 422 naming
 * the file; never a 500, never Node's bare ENOENT text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createExperiment } from '../../../src/engine/experiment/runner';
import { writeImages } from '../../../src/engine/experiment/record';
import { ExperimentPaths } from '../../../src/engine/experiment/paths';
import type { DatasetManifest } from '../../../src/common/dataset';
import { writeTinyDataset } from '../../helpers/tiny-dataset';
import { tinyConfig } from '../../helpers/tiny-config';
import { call, startTestServer, type TestServer } from '../../helpers/serve';

let t: TestServer;
let tiny: DatasetManifest;
let experimentId: string;
beforeAll(async () => {
  t = await startTestServer();
  tiny = await writeTinyDataset(t.workspace, 'tiny', { perClass: 2, valPerClass: 1 });
  await writeTinyDataset(t.workspace, 'tiny-source', { perClass: 2, valPerClass: 1 });
  await writeTinyDataset(t.workspace, 'gone', { perClass: 2, valPerClass: 1 });
  experimentId = await createExperiment(t.workspace, tinyConfig());
}, 30_000);
afterAll(() => t.close());

describe('missing workspace files', () => {
  it('answers 404 for ids the caller named that do not exist', async () => {
    const s = tiny.samples[0].id;
    for (const [method, body] of [
      ['getDataset', { id: 'nope' }],
      ['getSampleImages', { datasetId: 'nope', sampleId: s }],
      ['getSampleImages', { datasetId: 'tiny', sampleId: 'nope' }],
      ['readMask', { datasetId: 'nope', sampleId: s }],
      ['getExperiment', { experimentId: 'nope' }],
      ['getMaps', { experimentId: 'nope', net: 'T', checkpoint: 'epoch-0' }],
      ['getMaps', { experimentId, net: 'T', checkpoint: 'epoch-0' }],
      ['setRunNotes', { experimentId: 'nope', tags: [], note: '' }],
      ['deleteExperiment', { experimentId: 'nope' }],
      ['deleteDataset', { id: 'nope' }]
    ] as const) {
      const r = await call(t.server, method, body);
      expect([method, r.status]).toEqual([method, 404]);
    }
  });

  it('answers 422 naming the file when a file an existing dataset or experiment needs is gone', async () => {
    const [a, b, c] = tiny.samples;
    const dir = join(t.workspace, 'datasets', 'tiny');
    rmSync(join(dir, a.image));
    rmSync(join(dir, b.mask));
    rmSync(join(t.workspace, 'datasets', 'gone', 'dataset.json'));
    const paths = new ExperimentPaths(t.workspace, experimentId);
    await writeImages(paths, { seed: 1, ids: [c.id], count: 1 });
    rmSync(join(dir, c.mask));
    rmSync(paths.state);
    const cases: [string, unknown, string][] = [
      ['getSampleImages', { datasetId: 'tiny', sampleId: a.id }, join(dir, a.image)],
      ['readMask', { datasetId: 'tiny', sampleId: b.id }, join(dir, b.mask)],
      ['getDataset', { id: 'gone' }, join(t.workspace, 'datasets', 'gone', 'dataset.json')],
      ['getExperiment', { experimentId }, paths.state],
      ['getInspectorImage', { experimentId, index: 0 }, join(dir, c.mask)]
    ];
    for (const [method, body, file] of cases) {
      const r = await call(t.server, method, body);
      expect([method, r.status, r.json.error]).toEqual([method, 422, `${file}: file not found`]);
    }
    const list = await call(t.server, 'listDatasets', {});
    const gone = (list.json.result as { id: string; error?: string }[]).find((d) => d.id === 'gone');
    expect([list.status, gone?.error]).toEqual([200, expect.stringContaining('dataset.json: file not found')]);
    expect((await call(t.server, 'listExperiments', {})).status).toBe(200);
    expect(t.logged.filter((l) => /failed/.test(l))).toEqual([]);
  });
});
