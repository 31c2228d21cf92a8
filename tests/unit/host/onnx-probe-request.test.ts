/*
 * probeSource with an ONNX architecture, as the form calls it: the request schema takes the ONNX
 * form; the host reads its .onnx paths against the workspace as startExperiment does (a file
 * outside is 403 naming the field, a tap the graph lacks 400, before any job starts) and hands the job the configuration with
 * absolute paths (the job runs onnx-arch-probe.ts, tested in onnx-arch-probe.test.ts); the job's
 * failure comes back as the call's.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHost, type Host } from '../../../src/host';
import { CallerError } from '../../../src/common/errors';
import { API_REQUEST_SCHEMAS } from '../../../src/common/api-schemas';
import type { OnnxRunConfig } from '../../../src/common/config';
import type { FromJob, JobSpec } from '../../../src/host/process-messages';
import { tempDir } from '../../helpers/fixtures';
import { writeTinyDataset } from '../../helpers/tiny-dataset';
import { tinyConfig } from '../../helpers/tiny-config';

const FILE = join(__dirname, '../../fixtures/onnx-arch/tiny-arch.onnx');

describe('probeSource with an ONNX architecture', () => {
  const tmp = tempDir('kd-onnx-probe-req-');
  const ws = join(tmp.path, 'ws');
  const specs: JobSpec[] = [];
  let host: Host;
  const config = (onnx: string, teacher: { source: string | null; pretrained: string | null }): OnnxRunConfig => {
    const { architecture: _a, tap: _t, ...rest } = tinyConfig({ name: 'probe onnx' });
    return {
      ...rest,
      architecture: { onnx, classifier: null },
      tap: '/Relu_1',
      teacher: { ...rest.teacher, ...teacher }
    } as OnnxRunConfig;
  };

  beforeAll(async () => {
    await writeTinyDataset(ws, 'tiny', { seed: 1 });
    await writeTinyDataset(ws, 'shapes2', { seed: 2, classes: 2 });
    mkdirSync(join(ws, 'models'), { recursive: true });
    copyFileSync(FILE, join(ws, 'models', 'tiny-arch.onnx'));
    mkdirSync(join(tmp.path, 'outside'));
    copyFileSync(FILE, join(tmp.path, 'outside', 'net.onnx'));
    // A job that records what it was asked and fails, as a job that cannot load the file would.
    const spawnJob = () => {
      let listener: (m: FromJob) => void = () => undefined;
      return {
        send: (m: { type: string; spec?: JobSpec }) => {
          if (m.type !== 'start' || !m.spec) return;
          specs.push(m.spec);
          setImmediate(() => listener({ type: 'failed', message: 'the job refused it' } as FromJob));
        },
        onMessage: (fn: (m: FromJob) => void) => void (listener = fn),
        onExit: () => undefined,
        kill: () => undefined
      };
    };
    host = createHost({ workspace: ws, shell: 'browser', version: 'test', spawnJob: spawnJob as never });
  });
  afterAll(async () => {
    await host.shutdown();
    tmp.cleanup();
  });

  it('the request schema takes the ONNX form', () => {
    const c = config('models/tiny-arch.onnx', { source: 'shapes2', pretrained: null });
    expect(API_REQUEST_SCHEMAS.probeSource.safeParse({ config: c }).success).toBe(true);
  });

  it('hands the job the configuration with the workspace’s absolute paths; a file outside is 403', async () => {
    const c = config('models/tiny-arch.onnx', { source: 'shapes2', pretrained: null });
    await expect(host.service.probeSource({ config: c })).rejects.toThrow(/the job refused it/);
    const spec = specs.at(-1)!;
    expect(spec.kind).toBe('source-probe');
    const sent = (spec as { config: OnnxRunConfig }).config;
    expect(sent.architecture.onnx).toBe(join(ws, 'models', 'tiny-arch.onnx'));
    expect(sent.teacher).toMatchObject({ source: 'shapes2', pretrained: null });
    const before = specs.length;
    const outside = join(tmp.path, 'outside', 'net.onnx');
    const err = await host.service.probeSource({ config: config(outside, { source: null, pretrained: outside }) }).then(
      () => null,
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(CallerError);
    expect((err as CallerError).status).toBe(403);
    expect((err as Error).message).toMatch(/^architecture\.onnx '.*net\.onnx' is outside the workspace/);
    expect(specs.length).toBe(before);
    // Checked as kd-lens run checks it, before any job: a tap the graph lacks is 400 naming it.
    const tap = await host.service.probeSource({ config: { ...c, tap: '/nowhere' } }).then(
      () => null,
      (e: unknown) => e
    );
    expect((tap as CallerError).status).toBe(400);
    expect((tap as Error).message).toMatch(/tap: no node or output named '\/nowhere'/);
    expect(specs.length).toBe(before);
  });
});
