/*
 * startExperiment with an ONNX architecture, as the app and the server call it: the request schema
 * accepts the ONNX form and refuses what it cannot do naming the field; a path relative to the
 * workspace (<workspace>/models/) starts the experiment as a job at once; a file outside the
 * workspace and the picked folders is refused with 403 naming the field, a missing one with 404, a
 * tap the graph lacks with 400; a refusal writes nothing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHost, type Host } from '../../../src/host';
import { CallerError } from '../../../src/common/errors';
import { API_REQUEST_SCHEMAS } from '../../../src/common/api-schemas';
import type { OnnxRunConfig } from '../../../src/common/config';
import { tempDir } from '../../helpers/fixtures';
import { silentJob } from '../../helpers/serve';
import { tinyConfig } from '../../helpers/tiny-config';
import { experimentCount, onnxArchConfig, onnxWorkspace, TINY_ARCH as FILE } from '../../helpers/onnx-arch';

describe('startExperiment with an ONNX architecture', () => {
  const tmp = tempDir('kd-onnx-start-');
  const ws = join(tmp.path, 'ws');
  const outside = join(tmp.path, 'outside');
  let host: Host;
  const config = (onnx: string, over: Record<string, unknown> = {}): OnnxRunConfig =>
    onnxArchConfig('app onnx', { onnx, more: () => over }) as OnnxRunConfig;
  const experiments = (): number => experimentCount(ws);
  const refused = async (c: OnnxRunConfig, status: number, message: RegExp): Promise<void> => {
    const before = experiments();
    const err = await host.service.startExperiment({ config: c }).then(
      () => null,
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(CallerError);
    expect((err as CallerError).status).toBe(status);
    expect((err as Error).message).toMatch(message);
    expect(experiments()).toBe(before);
  };

  beforeAll(async () => {
    await onnxWorkspace(ws);
    mkdirSync(outside, { recursive: true });
    copyFileSync(FILE, join(outside, 'net.onnx'));
    host = createHost({ workspace: ws, shell: 'browser', version: 'test', spawnJob: silentJob });
  });
  afterAll(async () => {
    await host.shutdown();
    tmp.cleanup();
  });

  it('the request schema takes the ONNX form and names what it refuses', () => {
    const schema = API_REQUEST_SCHEMAS.startExperiment;
    expect(schema.safeParse({ config: config('models/tiny-arch.onnx') }).success).toBe(true);
    const auto = config('models/tiny-arch.onnx');
    const r = schema.safeParse({
      config: { ...auto, student: { ...auto.student, stage1: { ...auto.student.stage1, lr: 'auto' } } }
    });
    // lr "auto" runs the range test on ONNX Runtime as on TF.js (onnx-arch-lr.test.ts).
    expect(r.success).toBe(true);
    const folder = config('models/tiny-arch.onnx');
    const bad = schema.safeParse({
      config: { ...folder, teacher: { ...folder.teacher, pretrained: 'models/teacher' } }
    });
    expect(bad.error!.issues.map((i) => i.path.join('.'))).toEqual(['config.teacher.pretrained']);
    const tfjs = schema.safeParse({ config: { ...folder, trainEngine: 'tfjs' } });
    expect(tfjs.error!.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['config.trainEngine', 'an ONNX architecture trains on ONNX Runtime only; choose "auto" or "onnx"']
    ]);
    // The estimate takes the ONNX form too (onnx-arch-estimate.ts), refusing as startExperiment does.
    expect(API_REQUEST_SCHEMAS.estimate.safeParse({ config: folder }).success).toBe(true);
    expect(
      API_REQUEST_SCHEMAS.estimate.safeParse({ config: { ...folder, trainEngine: 'tfjs' } }).error!.issues[0].path
    ).toEqual(['config', 'trainEngine']);
    expect(API_REQUEST_SCHEMAS.estimate.safeParse({ config: tinyConfig() }).success).toBe(true);
    // The KD Lens form is still parsed as before.
    expect(schema.safeParse({ config: tinyConfig() }).success).toBe(true);
  });

  it('starts a run from <workspace>/models/ as a job, with the files copied into the experiment', async () => {
    const { experimentId, jobId } = await host.service.startExperiment({ config: config('models/tiny-arch.onnx') });
    expect(jobId).toBeTruthy();
    const root = join(ws, 'experiments', experimentId);
    const frozen = JSON.parse(readFileSync(join(root, 'config.json'), 'utf8'));
    expect(frozen.onnxRun.architecture.onnx).toBe(join(root, 'onnx', 'architecture.onnx'));
    expect(readFileSync(join(root, 'onnx', 'architecture.onnx')).equals(readFileSync(FILE))).toBe(true);
    expect(frozen.study.networks.map((n: { net: string }) => n.net)).toEqual(['T', 'S', 'B']);
    expect(JSON.parse(readFileSync(join(root, 'state.json'), 'utf8')).status).toBe('created');
  });

  it('refuses a file outside the workspace until its folder is picked (403 naming the field)', async () => {
    await refused(config(join(outside, 'net.onnx')), 403, /^architecture\.onnx '.*net\.onnx' is outside the workspace/);
    await host.service.chooseFolder({ purpose: 'import', path: outside });
    const { experimentId } = await host.service.startExperiment({ config: config(join(outside, 'net.onnx')) });
    expect(existsSync(join(ws, 'experiments', experimentId, 'onnx', 'architecture.onnx'))).toBe(true);
  });

  it('a missing file is 404 and a tap the graph lacks 400, both naming it; nothing written', async () => {
    await refused(config('models/missing.onnx'), 404, /^architecture\.onnx '.*missing\.onnx' does not exist/);
    await refused(
      { ...config('models/tiny-arch.onnx'), tap: '/nowhere' },
      400,
      /tap: no node or output named '\/nowhere'/
    );
    const escape = config('../outside/net.onnx');
    await refused(
      { ...escape, teacher: { ...escape.teacher, pretrained: '../../etc/x.onnx' } },
      404,
      /does not exist|outside/
    );
  });
});
