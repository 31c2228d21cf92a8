/*
 * A study is refused before any work, naming the file and the problem, with nothing written to the
 * workspace: a missing epoch file, another architecture within a series, a missing tap, outputs
 * that do not match the classes, a corrupt file, a path-length log whose epochs do not match. And
 * the path length computed from the checkpoints equals torch's, from the same weights.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../../helpers/tf';
import { tempDir } from '../../../helpers/fixtures';
import { createStudyExperiment } from '../../../../src/engine/study/analyse';
import { readStudyFile, resolveStudy } from '../../../../src/engine/study/manifest';
import { pathLengthFromWeights, readPathLengthLog } from '../../../../src/engine/study/path-length';

const FIX = join(__dirname, '../../../fixtures/study');
const series = (dir: string): Record<string, string> =>
  Object.fromEntries([0, 1, 2, 4, 6].map((e) => [String(e), join(FIX, dir, `epoch-${e}.onnx`)]));

function baseStudy(): Record<string, unknown> & { networks: Record<string, unknown>[] } {
  return {
    dataset: 'torch-shapes',
    name: 'bad',
    tap: '/fc1/Gemm',
    normalization: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] },
    networks: [
      { role: 'teacher', name: 'teacher', checkpoints: { '20': join(FIX, 'teacher/epoch-20.onnx') } },
      {
        role: 'student',
        name: 'student',
        checkpoints: series('student'),
        pathLength: join(FIX, 'student/path-length.csv')
      },
      {
        role: 'baseline',
        name: 'baseline',
        checkpoints: series('baseline'),
        pathLength: join(FIX, 'baseline/path-length.csv')
      }
    ]
  };
}

describe('bad studies', () => {
  const tmp = tempDir();
  const ws = join(tmp.path, 'ws');
  let n = 0;
  const write = (study: unknown): string => {
    const file = join(tmp.path, `study-${n++}.json`);
    writeFileSync(file, typeof study === 'string' ? study : JSON.stringify(study));
    return file;
  };
  /** Expects the study to be refused with a message matching every pattern, and no experiment written. */
  const refused = async (study: unknown, ...patterns: (string | RegExp)[]): Promise<void> => {
    const file = write(study);
    const err = await createStudyExperiment(ws, file).then(
      () => null,
      (e: Error) => e
    );
    expect(err, 'refused').not.toBeNull();
    for (const p of patterns) expect(err!.message).toMatch(p);
    expect(existsSync(join(ws, 'experiments')) ? readdirSync(join(ws, 'experiments')) : []).toEqual([]);
  };

  beforeAll(async () => {
    await useBackend('wasm');
    cpSync(join(FIX, 'dataset'), join(ws, 'datasets', 'torch-shapes'), { recursive: true });
  });
  afterAll(() => tmp.cleanup());

  it('accepts the good study (the cases below each change one thing)', async () => {
    const { file, study } = await readStudyFile(write(baseStudy()));
    const r = await resolveStudy(ws, study, { file, base: tmp.path });
    expect(r.summary.map((s) => s.net)).toEqual(['T', 'S', 'B']);
  });

  it('refuses a missing epoch file', async () => {
    const s = baseStudy();
    (s.networks[1].checkpoints as Record<string, string>)['3'] = join(FIX, 'student/epoch-3.onnx');
    await refused(s, join(FIX, 'student/epoch-3.onnx'), /does not exist/);
  });

  it('refuses a checkpoint of another architecture within a series', async () => {
    const s = baseStudy();
    (s.networks[1].checkpoints as Record<string, string>)['2'] = join(FIX, 'bad/wide.onnx');
    await refused(s, join(FIX, 'bad/wide.onnx'), /architecture differs/, join(FIX, 'student/epoch-0.onnx'));
  });

  it('refuses a checkpoint without the tap', async () => {
    const s = baseStudy();
    (s.networks[2].checkpoints as Record<string, string>)['4'] = join(FIX, 'bad/renamed.onnx');
    await refused(s, join(FIX, 'bad/renamed.onnx'), /tap '\/fc1\/Gemm'/);
  });

  it("refuses outputs that do not match the dataset's classes", async () => {
    const s = baseStudy();
    s.networks[0].checkpoints = { '20': join(FIX, 'bad/four-outputs.onnx') };
    await refused(s, join(FIX, 'bad/four-outputs.onnx'), /4 outputs/, /3 classes/);
    await refused({ ...baseStudy(), classes: ['square', 'cross', 'circle'] }, /field classes/, /unknown: circle/);
  });

  it('refuses a corrupt checkpoint', async () => {
    const corrupt = join(tmp.path, 'epoch-1.onnx');
    writeFileSync(corrupt, readFileSync(join(FIX, 'student/epoch-1.onnx')).subarray(0, 300));
    const s = baseStudy();
    (s.networks[1].checkpoints as Record<string, string>)['1'] = corrupt;
    await refused(s, corrupt);
  });

  it('refuses a path-length log whose epochs do not match', async () => {
    const log = join(tmp.path, 'path.csv');
    writeFileSync(log, 'epoch,path_length\n0,0\n1,0.5\n2,0.9\n6,1.5\n');
    const s = baseStudy();
    s.networks[1].pathLength = log;
    await refused(s, log, /no row for checkpoint epoch 4/);
    writeFileSync(log, 'epoch,path_length\n0,0\n1,0.5\n2,0.4\n4,1\n6,1.5\n');
    await refused(s, log, /falls from 0.5 at epoch 1 to 0.4 at epoch 2/);
  });

  it("names every network's problems at once, not only the first", async () => {
    const s = baseStudy();
    s.networks[0].checkpoints = { '20': join(FIX, 'bad/four-outputs.onnx') };
    (s.networks[1].checkpoints as Record<string, string>)['3'] = join(FIX, 'student/epoch-3.onnx');
    (s.networks[1].checkpoints as Record<string, string>)['5'] = join(FIX, 'student/epoch-5.onnx');
    (s.networks[2].checkpoints as Record<string, string>)['4'] = join(FIX, 'bad/renamed.onnx');
    await refused(
      s,
      /study-\d+\.json: 4 problems in the networks/,
      /four-outputs\.onnx: the model has 4 outputs/,
      /student\/epoch-3\.onnx: checkpoint file of network 'student', epoch 3, does not exist/,
      /student\/epoch-5\.onnx: checkpoint file of network 'student', epoch 5, does not exist/,
      /renamed\.onnx.*tap '\/fc1\/Gemm'/
    );
  });

  it('refuses a study file with a bad field, naming it', async () => {
    await refused('{"dataset": "torch-shapes", ', /study-\d+\.json/);
    const s = baseStudy();
    s.networks[1].role = 'pupil';
    await refused(s, /study-\d+\.json/, /networks\[1\]\.role/);
    await refused({ ...baseStudy(), dataset: 'nope' }, /field dataset/);
    await refused({ ...baseStudy(), name: '../x' }, /study-\d+\.json/, /run name '\.\.\/x' may use letters/);
  });

  it("computes the path length from the checkpoints' tap weights as torch does", async () => {
    const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')).checkpointPathLength;
    const s = baseStudy();
    delete s.networks[1].pathLength;
    delete s.networks[2].pathLength;
    const { file, study } = await readStudyFile(write(s));
    const r = await resolveStudy(ws, study, { file, base: tmp.path });
    expect(r.summary.map((x) => x.pathLength)).toEqual(['checkpoints', 'checkpoints', 'checkpoints']);
    r.pathLengths.get('S')!.forEach((v, i) => expect(v).toBeCloseTo(expected.student[i], 4));
    r.pathLengths.get('B')!.forEach((v, i) => expect(v).toBeCloseTo(expected.baseline[i], 5));
  });
});

describe('path-length logs and the approximation', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('reads CSV and both JSON forms', async () => {
    const csv = join(tmp.path, 'a.csv');
    writeFileSync(csv, 'epoch,path_length\r\n0,0\r\n2,1.25\r\n');
    expect([...(await readPathLengthLog(csv))]).toEqual([
      [0, 0],
      [2, 1.25]
    ]);
    const json = join(tmp.path, 'a.json');
    writeFileSync(
      json,
      JSON.stringify([
        { epoch: 0, path_length: 0 },
        { epoch: 3, pathLength: 2 }
      ])
    );
    expect([...(await readPathLengthLog(json))]).toEqual([
      [0, 0],
      [3, 2]
    ]);
    writeFileSync(json, JSON.stringify({ '0': 0, '5': 0.5 }));
    expect([...(await readPathLengthLog(json))]).toEqual([
      [0, 0],
      [5, 0.5]
    ]);
    writeFileSync(csv, 'epoch,path_length\n0,0\n1,x\n');
    await expect(readPathLengthLog(csv)).rejects.toThrow(/a\.csv: line 3: the path length must be a finite number/);
  });

  it('sums the Frobenius steps between checkpoints over the first norm (hand-worked)', () => {
    // W0 = (3, 4): norm 5; steps (3,4)->(3,0): 4, (3,0)->(0,0): 3.
    const w = [Float32Array.from([3, 4]), Float32Array.from([3, 0]), Float32Array.from([0, 0])];
    expect(pathLengthFromWeights(w, 'w')).toEqual([0, 4 / 5, 7 / 5]);
    expect(() => pathLengthFromWeights([new Float32Array(2)], 'w')).toThrow(/all zero/);
  });
});
