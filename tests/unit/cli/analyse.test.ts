/*
 * `kd-lens analyse`: --json prints what `kd-lens run --json` prints plus the study; the terminal
 * output names the path-length approximation where it is used; a bad study exits non-zero naming
 * the file, with nothing written to the workspace.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { useBackend } from '../../helpers/tf';
import { runCli } from '../../helpers/cli';
import { tempDir } from '../../helpers/fixtures';

const FIX = join(__dirname, '../../fixtures/study');

describe('kd-lens analyse', () => {
  const tmp = tempDir();
  const ws = join(tmp.path, 'ws');
  const study = join(tmp.path, 'study');
  const experiments = (): string[] => (existsSync(join(ws, 'experiments')) ? readdirSync(join(ws, 'experiments')) : []);

  beforeAll(async () => {
    await useBackend('wasm');
    cpSync(join(FIX, 'dataset'), join(ws, 'datasets', 'torch-shapes'), { recursive: true });
    for (const f of ['teacher', 'student', 'baseline', 'study.json'])
      cpSync(join(FIX, f), join(study, f), { recursive: true });
  });
  afterAll(() => tmp.cleanup());

  it('refuses a bad study naming the file, writing nothing', async () => {
    cpSync(join(FIX, 'bad/wide.onnx'), join(study, 'baseline', 'epoch-2.onnx'));
    const r = await runCli(['analyse', study, '--workspace', ws, '--json']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`${join(study, 'baseline', 'epoch-2.onnx')}: the architecture differs`);
    expect(r.stdout).toBe('');
    expect(experiments()).toEqual([]);
    cpSync(join(FIX, 'baseline', 'epoch-2.onnx'), join(study, 'baseline', 'epoch-2.onnx'));
  });

  it('prints the run --json contract with the study', async () => {
    const r = await runCli(['analyse', study, '--workspace', ws, '--json', '--no-estimate']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown> & {
      metrics: Record<string, { accuracy: number }>;
      study: { pairs: { student: string; baseline: string }[]; pathLengthNote: string | null };
    };
    expect(Object.keys(out)).toEqual(expect.arrayContaining(['experiment', 'metrics', 'verdicts', 'checks', 'study']));
    expect(Object.keys(out.metrics)).toEqual(['teacher', 'student', 'baseline']);
    expect(out.study.pairs).toEqual([expect.objectContaining({ student: 'S', baseline: 'B' })]);
    expect(out.study.pathLengthNote).toBeNull();
    expect(experiments()).toHaveLength(1);
  });

  it('says where the path length is a per-checkpoint approximation', async () => {
    rmSync(join(study, 'student', 'path-length.csv'));
    const r = await runCli(['analyse', study, '--workspace', ws, '--no-estimate']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /S +student +student: epochs 0, 1, 2, 4, 6; path length from the checkpoints \(approximation\)/
    );
    expect(r.stdout).toMatch(/note \(S\): path length is a per-checkpoint approximation/);
    expect(r.stdout).toMatch(/each student against the baseline:\n  student \(S\) vs baseline \(B\): H1 /);
    const id = experiments().sort().at(-1)!;
    const report = readFileSync(join(ws, 'experiments', id, 'report.html'), 'utf8');
    expect(report).toContain('a study of 3 networks trained elsewhere at 16 px, tap <b>/fc1/Gemm</b>');
    expect(report).toMatch(/<b>Note:<\/b> path length is a per-checkpoint approximation/);
    expect(report).toContain('checkpoints (approximation)');
  });
});
