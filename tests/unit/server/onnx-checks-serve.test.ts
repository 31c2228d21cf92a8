/*
 * The pre-job checks of an ONNX-architecture run over HTTP (`kd-lens serve`): a caller's mistake in
 * the configuration (a missing, outside or unreadable .onnx file, a classifier or tap the graph
 * lacks, a source or target dataset that is not there, a target whose image size differs from the
 * file's fixed input) comes back from /api/estimate, /api/probeSource and /api/startExperiment as a
 * 4xx with the message, before any job starts and with nothing written; and /api/estimate answers
 * for an ONNX network with its own steps timed (the calibration job run in-process here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Estimate } from '../../../src/common/api';
import type { FromJob, JobHandle, JobSpec, ToJob } from '../../../src/host/process-messages';
import { calibrateOnnxRun } from '../../../src/engine/onnx/onnx-arch-estimate';
import { call, startTestServer, type TestServer } from '../../helpers/serve';
import { writeTinyDataset } from '../../helpers/tiny-dataset';
import { tinyConfig } from '../../helpers/tiny-config';
import { experimentCount, TINY_ARCH } from '../../helpers/onnx-arch';

describe('the checks of an ONNX-architecture run over HTTP', () => {
  let t: TestServer;
  const specs: JobSpec[] = [];
  /** A job process that runs an ONNX calibration in this process and refuses every other job (recorded in `specs`). */
  const spawnJob = (): JobHandle => {
    let listener: (m: FromJob) => void = () => undefined;
    const answer = (m: FromJob): void => void setImmediate(() => listener(m));
    return {
      send: (m: ToJob) => {
        if (m.type !== 'start') return;
        // The host's backend probe at start is not a job of these calls.
        if (m.spec.kind !== 'probe') specs.push(m.spec);
        if (m.spec.kind !== 'calibrate-onnx') return answer({ type: 'failed', message: 'not here', cancelled: false });
        // The compiler's refusal of a stage's step graph in the job, as calibrateOnnxRun answers it.
        if (m.spec.config.name === 'refused in the job')
          return answer({ type: 'done', result: { refused: 'net.onnx: node /x: no rule' } });
        calibrateOnnxRun(m.spec.workspace, m.spec.config).then(
          (result) => answer({ type: 'done', result }),
          (err: Error) => answer({ type: 'failed', message: err.message, cancelled: false })
        );
      },
      onMessage: (fn) => void (listener = fn),
      onExit: () => undefined,
      kill: () => undefined
    };
  };
  const config = (over: Record<string, unknown> = {}): Record<string, unknown> => {
    const { architecture: _a, tap: _t, ...rest } = tinyConfig({ name: 'http onnx' });
    return {
      ...rest,
      architecture: { onnx: 'models/tiny-arch.onnx' },
      tap: '/Relu_1',
      teacher: { ...rest.teacher, source: null, pretrained: 'models/tiny-arch.onnx' },
      ...over
    };
  };

  beforeAll(async () => {
    t = await startTestServer({
      spawnJob,
      prepare: (ws) => {
        mkdirSync(join(ws, 'models'));
        copyFileSync(TINY_ARCH, join(ws, 'models', 'tiny-arch.onnx'));
        writeFileSync(join(ws, 'models', 'junk.onnx'), 'not a model');
      }
    });
    await writeTinyDataset(t.workspace, 'tiny', { seed: 1 });
    await writeTinyDataset(t.workspace, 'big', { seed: 2, size: 24 });
    await writeTinyDataset(t.workspace, 'src2', { seed: 3, classes: 2 });
    mkdirSync(join(t.root, 'outside'));
    copyFileSync(TINY_ARCH, join(t.root, 'outside', 'net.onnx'));
  });
  afterAll(async () => t.close());

  const teacher = (over: Record<string, unknown>): Record<string, unknown> => ({
    ...(config().teacher as Record<string, unknown>),
    ...over
  });
  const METHODS = ['estimate', 'probeSource', 'startExperiment'];

  it('refuses each caller mistake with a 4xx and its message on every call, before any job, writing nothing', async () => {
    const outside = join(t.root, 'outside', 'net.onnx');
    const fromSource = teacher({ source: 'src2', pretrained: null });
    const cases: { name: string; c: Record<string, unknown>; status: number; message: RegExp }[] = [
      {
        name: 'a missing file',
        c: config({ architecture: { onnx: 'models/none.onnx' }, teacher: fromSource }),
        status: 404,
        message: /^architecture\.onnx '.*models\/none\.onnx' does not exist$/
      },
      {
        name: 'a file outside the workspace',
        c: config({ architecture: { onnx: outside } }),
        status: 403,
        message: /^architecture\.onnx '.*outside\/net\.onnx' is outside the workspace/
      },
      {
        name: 'a file that is not an ONNX model',
        c: config({ architecture: { onnx: 'models/junk.onnx' }, teacher: fromSource }),
        status: 400,
        message: /models\/junk\.onnx: not a readable ONNX file/
      },
      {
        name: 'a teacher file that is not an ONNX model',
        c: config({ teacher: teacher({ pretrained: 'models/junk.onnx' }) }),
        status: 400,
        message: /models\/junk\.onnx: not a readable ONNX file/
      },
      {
        name: 'a classifier the graph lacks',
        c: config({ architecture: { onnx: 'models/tiny-arch.onnx', classifier: '/nowhere' } }),
        status: 400,
        message:
          /tiny-arch\.onnx: architecture\.classifier: no node or output named '\/nowhere' \(Gemm\/MatMul nodes: \/fc\/Gemm\)$/
      },
      {
        name: 'a tap the graph lacks',
        c: config({ tap: '/nowhere' }),
        status: 400,
        message: /tiny-arch\.onnx: tap: no node or output named '\/nowhere'/
      },
      {
        name: 'a source dataset that is not there',
        c: config({ teacher: teacher({ source: 'nope', pretrained: null }) }),
        status: 400,
        message: /^teacher\.source: no dataset 'nope' in the workspace/
      },
      {
        name: 'a target dataset that is not there',
        c: config({ dataset: 'nope' }),
        status: 404,
        message: /^no dataset 'nope' in the workspace/
      },
      {
        name: 'a target of another image size than the file’s fixed input',
        c: config({ dataset: 'big' }),
        status: 400,
        message: /tiny-arch\.onnx: the input 'input' is fixed at 16x16 pixels, but dataset 'big' has 24x24 images/
      }
    ];
    for (const k of cases)
      for (const method of METHODS) {
        const a = await call(t.server, method, { config: k.c });
        expect([k.name, method, a.status]).toEqual([k.name, method, k.status]);
        expect(a.json.error, `${k.name}: ${method}`).toMatch(k.message);
      }
    expect(specs).toEqual([]);
    expect(experimentCount(t.workspace)).toBe(0);
  });

  it('estimates an ONNX network from its own timed steps, one calibration per network', async () => {
    const c = config({ seeds: 2 });
    const a = await call(t.server, 'estimate', { config: c });
    expect(a.status).toBe(200);
    const e = a.json.result as Estimate;
    expect(Object.keys(e.stages).sort()).toEqual(
      ['baseline', 'quantify', 'student stage 1', 'student stage 2', 'teacher finetune'].sort()
    );
    for (const v of Object.values(e.stages)) expect(v).toBeGreaterThan(0);
    expect(e.seconds).toBeCloseTo(
      Object.values(e.stages).reduce((x, y) => x + y, 0),
      9
    );
    expect(e.refined).toBe(false);
    // A teacher from the file's weights: the probe fine-tunes and trains the baseline for up to 3 epochs.
    expect(e.probe).toBeGreaterThan(0);
    expect(e.basis).toMatch(/^measured on this machine: [\d.]+ ms per training step of 8 \(.*onnx cpu/);
    expect(e.basis).toMatch(
      /timed on your ONNX network's own compiled training steps \(tiny-arch\.onnx: 8 images of 16 px, after a warm-up step\)/
    );
    expect(specs.map((s) => s.kind)).toEqual(['calibrate-onnx']);
    expect((specs[0] as { config: { architecture: { onnx: string } } }).config.architecture.onnx).toBe(
      join(t.workspace, 'models', 'tiny-arch.onnx')
    );
    // More epochs: the same network, so the same calibration.
    const more = config({ seeds: 2, baseline: { ...(c.baseline as object), epochs: 6 } });
    const b = (await call(t.server, 'estimate', { config: more })).json.result as Estimate;
    expect(specs).toHaveLength(1);
    // Twice the baseline's steps (its graph opened once per seed, as before).
    expect(b.stages.baseline).toBeGreaterThan(e.stages.baseline);
    expect(b.stages.baseline).toBeLessThan(2 * e.stages.baseline);
    expect(b.stages['teacher finetune']).toBe(e.stages['teacher finetune']);
    // Another tap is another network to time.
    await call(t.server, 'estimate', { config: config({ tap: '/Relu' }) });
    expect(specs).toHaveLength(2);
    // The compiler's refusal in the calibration job is the caller's mistake: 400 with its message.
    const refused = await call(t.server, 'estimate', {
      config: config({ name: 'refused in the job', tap: '/pool/MaxPool' })
    });
    expect([refused.status, refused.json.error]).toEqual([400, 'net.onnx: node /x: no rule']);
  });
});
