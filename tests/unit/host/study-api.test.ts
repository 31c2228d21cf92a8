/*
 * checkStudy and startStudy of the KdApi service: networks by server folder (found by the folder
 * convention), refused with 403 outside the workspace and the picked folders, with 400 naming the
 * file for bad checkpoints; a good study is described (epochs, path-length source, outputs vs
 * classes), and startStudy creates its experiment and starts a job. Networks uploaded from the
 * browser (a folder's files, or a zip) are unpacked, checked and moved into the experiment when the
 * study starts; the upload is reclaimed whether the start succeeds or fails.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHost, type Host } from '../../../src/host';
import type { JobHandle } from '../../../src/host/process-messages';
import { CallerError } from '../../../src/common/errors';
import { StudyRequestSchema, type StudyRequest } from '../../../src/common/study';
import { writeZip } from '../../helpers/zip-writer';
import { tempDir } from '../../helpers/fixtures';
import { useBackend } from '../../helpers/tf';

const FIX = join(__dirname, '../../fixtures/study');
/** A job process that does nothing and exits when killed (so the host shuts down at once). */
const silentJob = (): JobHandle => {
  let exit: ((code: number | null) => void) | null = null;
  return {
    send: () => undefined,
    onMessage: () => undefined,
    onExit: (fn) => void (exit = fn),
    kill: () => exit?.(null)
  };
};

describe('studies through the KdApi service', () => {
  const tmp = tempDir();
  const ws = join(tmp.path, 'ws');
  const nets = join(tmp.path, 'nets');
  let host: Host;
  const request = (over: Partial<StudyRequest> = {}): StudyRequest => ({
    dataset: 'torch-shapes',
    name: 'app study',
    tap: '/fc1/Gemm',
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    quantification: { grid: 4, samples: 4, steps: 10, images: 4 },
    networks: [
      { role: 'teacher', name: 'teacher', folder: join(nets, 'teacher') },
      { role: 'student', name: 'student', folder: join(nets, 'student') },
      { role: 'baseline', name: 'baseline', folder: join(nets, 'baseline') }
    ],
    ...over
  });
  const caller = async (p: Promise<unknown>, status: number, message: RegExp | string): Promise<void> => {
    const err = await p.then(
      () => null,
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(CallerError);
    expect((err as CallerError).status).toBe(status);
    expect((err as Error).message).toMatch(message);
  };

  beforeAll(async () => {
    await useBackend('wasm');
    cpSync(join(FIX, 'dataset'), join(ws, 'datasets', 'torch-shapes'), { recursive: true });
    for (const d of ['teacher', 'student', 'baseline']) cpSync(join(FIX, d), join(nets, d), { recursive: true });
    mkdirSync(join(nets, 'broken'));
    for (const f of readdirSync(join(FIX, 'baseline'))) copyFileSync(join(FIX, 'baseline', f), join(nets, 'broken', f));
    copyFileSync(join(FIX, 'bad/renamed.onnx'), join(nets, 'broken', 'epoch-4.onnx'));
    host = createHost({ workspace: ws, shell: 'browser', version: 'test', spawnJob: silentJob });
  });
  afterAll(async () => {
    await host.shutdown();
    tmp.cleanup();
  });

  it('refuses folders outside the workspace that were not picked', async () => {});

  it('describes a good study once its folder is picked, writing nothing', async () => {
    await host.service.chooseFolder({ purpose: 'import', path: nets });
    const check = await host.service.checkStudy({ study: request() });
    expect(check.size).toBe(16);
    expect(check.outputs).toBe(3);
    expect(check.classes).toEqual(['square', 'cross', 'bar']);
    expect(check.networks.map((n) => [n.net, n.epochs, n.pathLength])).toEqual([
      ['T', [20], 'checkpoints'],
      ['S', [0, 1, 2, 4, 6], 'log'],
      ['B', [0, 1, 2, 4, 6], 'log']
    ]);
    expect(check.pathLengthNote).toBeNull();
    expect(check.estimateSeconds).toBeGreaterThan(0);
    expect(await host.service.listExperiments()).toEqual([]);
  });

  it('answers 400 naming the file for a checkpoint without the tap, and for an empty folder', async () => {
    const bad = request();
    bad.networks[2].folder = join(nets, 'broken');
    await caller(host.service.checkStudy({ study: bad }), 400, join(nets, 'broken', 'epoch-4.onnx'));
    mkdirSync(join(nets, 'empty'));
    bad.networks[2].folder = join(nets, 'empty');
    await caller(host.service.checkStudy({ study: bad }), 400, /no checkpoints/);
    await caller(host.service.startStudy({ study: bad }), 400, /no checkpoints/);
    expect(await host.service.listExperiments()).toEqual([]);
  });

  it('answers one 400 naming every bad folder and checkpoint at once', async () => {
    mkdirSync(join(nets, 'empty2'));
    const bad = request();
    bad.networks[1].folder = join(nets, 'empty2');
    bad.networks[2].folder = join(nets, 'missing');
    await caller(host.service.checkStudy({ study: bad }), 400, /2 problems in the networks' folders/);
    await caller(host.service.checkStudy({ study: bad }), 400, new RegExp(`empty2: no checkpoints[^]*missing`));
    const broken = request();
    broken.networks[0].folder = join(nets, 'broken');
    broken.networks[2].folder = join(nets, 'broken');
    await caller(
      host.service.checkStudy({ study: broken }),
      400,
      /2 problems in the networks:\n- .*broken\/epoch-4\.onnx[^]*\n- .*broken\/epoch-4\.onnx/
    );
  });

  /** Uploads `dir`'s files as a browser sends a picked folder (paths under the folder's name), or as one zip. */
  const upload = async (dir: string, as: 'folder' | 'zip'): Promise<string> => {
    const name = dir.split('/').at(-1)!;
    const files = readdirSync(dir).map((f) => ({ name: `${name}/${f}`, data: readFileSync(join(dir, f)) }));
    const sent = as === 'zip' ? [{ name: `${name}.zip`, data: writeZip(files) }] : files;
    const total = sent.reduce((n, f) => n + f.data.length, 0);
    const { uploadId } = await host.service.uploadStart({ totalBytes: total });
    for (const f of sent)
      await host.service.uploadPart({ uploadId, path: f.name, offset: 0, data: f.data.toString('base64') });
    const { files: count } = await host.service.uploadUnpack({ uploadId });
    expect(count).toBe(files.length);
    return uploadId;
  };
  const uploadDirs = (): string[] => (existsSync(join(ws, 'uploads')) ? readdirSync(join(ws, 'uploads')) : []);

  it('analyses networks uploaded from the browser (a folder and a zip): checked, then moved into the experiment', async () => {
    const student = await upload(join(FIX, 'student'), 'folder');
    const baseline = await upload(join(FIX, 'baseline'), 'zip');
    const study = request();
    study.networks[1] = { role: 'student', name: 'student', upload: student };
    study.networks[2] = { role: 'baseline', name: 'baseline', upload: baseline };
    expect(StudyRequestSchema.safeParse(study).success).toBe(true);
    const check = await host.service.checkStudy({ study });
    expect(check.networks.map((n) => [n.net, n.epochs, n.pathLength])).toEqual([
      ['T', [20], 'checkpoints'],
      ['S', [0, 1, 2, 4, 6], 'log'],
      ['B', [0, 1, 2, 4, 6], 'log']
    ]);
    expect(uploadDirs().sort()).toEqual([baseline, student].sort()); // kept between the check and the start
    const { experimentId } = await host.service.startStudy({ study });
    expect(uploadDirs()).toEqual([]);
    const d = await host.service.getExperiment({ experimentId });
    const root = join(ws, 'experiments', experimentId, 'networks');
    const s = d.config.study!.networks.find((n) => n.net === 'S')!;
    expect(s.checkpoints.map((c) => c.path)).toEqual(
      [0, 1, 2, 4, 6].map((e) => join(root, student, `epoch-${e}.onnx`))
    );
    expect(s.pathLength.file).toBe(join(root, student, 'path-length.csv'));
    const b = d.config.study!.networks.find((n) => n.net === 'B')!;
    expect(b.checkpoints[0].path).toBe(join(root, baseline, 'epoch-0.onnx'));
    for (const n of [s, b]) for (const c of n.checkpoints) expect(existsSync(c.path)).toBe(true);
    // Used: the id is not known any more.
    await caller(host.service.checkStudy({ study }), 404, new RegExp(`upload '${student}' not found`));
  });

  it('reclaims an upload when its study fails to start; refuses a request naming a folder and an upload', async () => {
    const student = await upload(join(FIX, 'student'), 'folder');
    const bad = request({ tap: '/nope' });
    bad.networks[1] = { role: 'student', name: 'student', upload: student };
    await caller(host.service.startStudy({ study: bad }), 400, /nope/);
    expect(uploadDirs()).toEqual([]);
    await caller(host.service.checkStudy({ study: bad }), 404, /not found/);
    const both = request();
    both.networks[1] = { ...both.networks[1], upload: 'up-x' };
    expect(StudyRequestSchema.safeParse(both).error?.issues[0].message).toMatch(/the folder or the upload/);
    const neither = request();
    neither.networks[1] = { role: 'student', name: 'student' };
    expect(StudyRequestSchema.safeParse(neither).success).toBe(false);
  });

  it('starts a good study as an experiment job', async () => {
    const { experimentId, jobId } = await host.service.startStudy({ study: request() });
    expect(jobId).toMatch(/^job-/);
    const d = await host.service.getExperiment({ experimentId });
    expect(d.config.study?.networks.map((n) => n.net)).toEqual(['T', 'S', 'B']);
    expect(d.summary.family).toBe('study');
    expect(d.summary.tap).toBe('/fc1/Gemm');
  });
});
