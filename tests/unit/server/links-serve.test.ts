/*
 * Symbolic links under experiments/, trash/ and uploads/ of a running server (issue 21): every
 * method that writes refuses (403) to write through a link, a read follows a link only while its
 * real path stays inside the workspace, and the place a link points to is left exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createExperiment } from '../../../src/engine/experiment/runner';
import { writeTinyDataset } from '../../helpers/tiny-dataset';
import { tinyConfig } from '../../helpers/tiny-config';
import { call, startTestServer, type TestServer } from '../../helpers/serve';

/** Every entry under `dir` with a hash of each file's bytes (a link is listed as its target). */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string, rel: string): void => {
    for (const name of readdirSync(at).sort()) {
      const full = join(at, name);
      const st = lstatSync(full);
      const key = rel ? `${rel}/${name}` : name;
      if (st.isDirectory()) {
        out[key + '/'] = 'dir';
        walk(full, key);
      } else out[key] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

const OUTSIDE = /outside the workspace/;
const LINK = /is a symbolic link: KD Lens does not write through links/;

describe('a linked experiment folder', () => {
  let t: TestServer;
  let outside: string;
  let id: string;
  let realId: string;
  beforeAll(async () => {
    t = await startTestServer();
    outside = join(t.root, 'outside');
    for (const ws of [outside, t.workspace]) {
      await writeTinyDataset(ws, 'tiny', { perClass: 2, valPerClass: 1 });
      await writeTinyDataset(ws, 'tiny-source', { perClass: 2, valPerClass: 1 });
    }
    id = await createExperiment(outside, tinyConfig({ name: 'away' }));
    realId = await createExperiment(t.workspace, tinyConfig({ name: 'home' }));
    symlinkSync(join(outside, 'experiments', id), join(t.workspace, 'experiments', id));
    symlinkSync(join(t.workspace, 'experiments', realId), join(t.workspace, 'experiments', 'alias'));
  }, 30_000);
  afterAll(() => t.close());

  it('leading outside: every writing method answers 403, every read 403, the target unchanged', async () => {
    const before = snapshot(outside);
    const writes: [string, unknown][] = [
      ['setRunNotes', { experimentId: id, tags: ['x'], note: 'pwned' }],
      ['deleteExperiment', { experimentId: id }],
      ['resumeExperiment', { experimentId: id }],
      ['getReport', { experimentId: id }] // writes report.html when it is missing
    ];
    const reads: [string, unknown][] = [
      ['getExperiment', { experimentId: id }],
      ['getMaps', { experimentId: id, net: 'T', checkpoint: 'epoch-0' }],
      ['getInspectorImage', { experimentId: id, index: 0 }]
    ];
    for (const [method, body] of writes) {
      const r = await call(t.server, method, body);
      const why = new RegExp(`${OUTSIDE.source}|${LINK.source}`);
      expect([method, r.status, r.json.error]).toEqual([method, 403, expect.stringMatching(why)]);
    }
    for (const [method, body] of reads) {
      const r = await call(t.server, method, body);
      expect([method, r.status, r.json.error]).toEqual([method, 403, expect.stringMatching(OUTSIDE)]);
    }
    const listed = (await call(t.server, 'listExperiments', {})).json.result as {
      id: string;
      status: string;
      error?: string;
    }[];
    expect(listed.find((e) => e.id === id)).toMatchObject({
      status: 'unreadable',
      error: expect.stringMatching(OUTSIDE)
    });
    expect(snapshot(outside)).toEqual(before);
    expect(lstatSync(join(t.workspace, 'experiments', id)).isSymbolicLink()).toBe(true);
    expect(existsSync(join(t.workspace, 'trash'))).toBe(false);
  });

  it('a dataset folder leading outside: reads and writes answer 403, it is not listed, the target unchanged', async () => {
    symlinkSync(join(outside, 'datasets', 'tiny'), join(t.workspace, 'datasets', 'away'));
    const before = snapshot(outside);
    const s = JSON.parse(readFileSync(join(outside, 'datasets', 'tiny', 'dataset.json'), 'utf8')).samples[0].id;
    const mask = { datasetId: 'away', sampleId: s, width: 16, height: 16, data: Buffer.alloc(256).toString('base64') };
    for (const [method, body] of [
      ['getDataset', { id: 'away' }],
      ['getSampleImages', { datasetId: 'away', sampleId: s }],
      ['readMask', { datasetId: 'away', sampleId: s }],
      ['writeMask', mask],
      ['resetMask', { datasetId: 'away', sampleId: s }],
      ['renameDataset', { id: 'away', name: 'pwned' }],
      ['deleteDataset', { id: 'away' }]
    ] as const) {
      const r = await call(t.server, method, body);
      expect([method, r.status, r.json.error]).toEqual([method, 403, expect.stringMatching(OUTSIDE)]);
    }
    const list = (await call(t.server, 'listDatasets', {})).json.result as { id: string }[];
    expect(list.map((d) => d.id)).not.toContain('away');
    expect(snapshot(outside)).toEqual(before);
  });

  it('leading inside the workspace: reads answer, every write answers 403 and nothing is written', async () => {
    const real = join(t.workspace, 'experiments', realId);
    const before = snapshot(real);
    const read = await call(t.server, 'getExperiment', { experimentId: 'alias' });
    expect([read.status, (read.json.result as { config: { name: string } }).config.name]).toEqual([200, 'home']);
    for (const [method, body] of [
      ['setRunNotes', { experimentId: 'alias', tags: [], note: 'through the link' }],
      ['deleteExperiment', { experimentId: 'alias' }],
      ['resumeExperiment', { experimentId: 'alias' }],
      ['getReport', { experimentId: 'alias' }]
    ] as const) {
      const r = await call(t.server, method, body);
      expect([method, r.status, r.json.error]).toEqual([method, 403, expect.stringMatching(LINK)]);
    }
    expect(snapshot(real)).toEqual(before);
    const direct = await call(t.server, 'setRunNotes', { experimentId: realId, tags: [], note: 'fine' });
    expect(direct.status).toBe(200);
  });
});

describe('linked experiments, trash and uploads folders', () => {
  let t: TestServer;
  let elsewhere: string;
  let experimentId: string;
  beforeAll(async () => {
    t = await startTestServer({
      prepare: (ws) => {
        elsewhere = join(ws, '..', 'elsewhere');
        for (const d of ['experiments', 'trash', 'uploads']) {
          mkdirSync(join(elsewhere, d), { recursive: true });
          symlinkSync(join(elsewhere, d), join(ws, d));
        }
        // Not an upload of this server: the start-up sweep must not remove it through the link.
        mkdirSync(join(elsewhere, 'uploads', 'precious'));
        writeFileSync(join(elsewhere, 'uploads', 'precious', 'thesis.txt'), 'years of work');
      }
    });
    for (const ws of [t.workspace, elsewhere]) {
      await writeTinyDataset(ws, 'tiny', { perClass: 2, valPerClass: 1 });
      await writeTinyDataset(ws, 'tiny-source', { perClass: 2, valPerClass: 1 });
    }
    experimentId = await createExperiment(elsewhere, tinyConfig({ name: 'away' }));
  }, 30_000);
  afterAll(() => t.close());

  it('refuses to create, delete into trash or upload through them; the places they point to unchanged', async () => {
    const before = snapshot(elsewhere);
    const start = await call(t.server, 'startExperiment', { config: tinyConfig({ name: 'new' }) });
    expect([start.status, start.json.error]).toEqual([
      403,
      expect.stringMatching(/'experiments' in the workspace is a symbolic link/)
    ]);
    const del = await call(t.server, 'deleteDataset', { id: 'tiny' });
    expect([del.status, del.json.error]).toEqual([
      403,
      expect.stringMatching(/'trash' in the workspace is a symbolic link/)
    ]);
    const notes = await call(t.server, 'setRunNotes', { experimentId, tags: [], note: 'x' });
    expect(notes.status).toBe(403);
    const up = await call(t.server, 'uploadStart', { totalBytes: 10 });
    expect([up.status, up.json.error]).toEqual([
      403,
      expect.stringMatching(/'uploads' in the workspace is a symbolic link/)
    ]);
    expect(snapshot(elsewhere)).toEqual(before);
    expect(readFileSync(join(elsewhere, 'uploads', 'precious', 'thesis.txt'), 'utf8')).toBe('years of work');
    expect(existsSync(join(t.workspace, 'datasets', 'tiny', 'dataset.json'))).toBe(true);
  });
});
