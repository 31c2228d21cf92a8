/*
 * A study's frozen configuration carries training placeholders (family vgg, tap 'conv', stages):
 * the views read the family, the tap and the settings through shown-config, which say the study's
 * values (its tap, 'study', no training sections), and the run differences leave out its
 * placeholder rates. A trained run is shown as it is.
 */
import { describe, it, expect } from 'vitest';
import { defaultConfig } from '../../../src/common/defaults';
import type { RunConfig } from '../../../src/common/config';
import { shownConfig, shownFamily, shownTap } from '../../../src/common/shown-config';
import { describeDifferences } from '../../../src/common/run-differences';
import { configDiff } from '../../../src/renderer/src/results/runs';

const net = (id: string, role: 'teacher' | 'student' | 'baseline', source: 'log' | 'checkpoints') => ({
  net: id,
  role,
  name: `${role} net`,
  method: `${role} net`,
  checkpoints: [{ epoch: 0, path: `/x/${id}/epoch-0.onnx` }],
  final: null,
  pathLength: { source, file: source === 'log' ? `/x/${id}/path-length.csv` : null }
});

function studyConfig(): RunConfig {
  const d = defaultConfig('shapes', 32);
  return {
    ...d,
    name: 'study',
    // Placeholders a study freezes; different rates so a view reading them would say so.
    student: { ...d.student, stage1: { ...d.student.stage1, lr: 0.123 } },
    study: {
      file: null,
      tap: '/features/features.28/Conv',
      classOrder: null,
      networks: [net('T', 'teacher', 'checkpoints'), net('S', 'student', 'log'), net('B', 'baseline', 'checkpoints')]
    }
  };
}

describe('a configuration as the views show it', () => {
  it("shows a study's tap and family, not the placeholders", () => {
    const c = studyConfig();
    expect(c.tap).not.toBe(c.study!.tap);
    expect(shownTap(c)).toBe('/features/features.28/Conv');
    expect(shownFamily(c)).toBe('study');
    const shown = shownConfig(c);
    expect(shown.tap).toBe('/features/features.28/Conv');
    expect(shown.architecture).toEqual({ family: 'study', inputSize: 32 });
    for (const k of ['teacher', 'student', 'baseline']) expect(shown).not.toHaveProperty(k);
    expect((shown.study as { networks: string[] }).networks).toEqual([
      'T teacher net (teacher, 1 checkpoints, path length from the checkpoints)',
      'S student net (student, 1 checkpoints, path length from the log)',
      'B baseline net (baseline, 1 checkpoints, path length from the checkpoints)'
    ]);
  });

  it('shows a trained run as it is', () => {
    const d = defaultConfig('shapes', 32);
    expect(shownConfig(d)).toBe(d);
    expect(shownTap(d)).toBe(d.tap);
    expect(shownFamily(d)).toBe(d.architecture.family);
  });

  it('compares a study with a trained run on the real tap and family, without training rows', () => {
    const rows = configDiff(shownConfig(studyConfig()), shownConfig(defaultConfig('shapes', 32)));
    const at = (p: string) => rows.find((r) => r.path === p);
    expect(at('tap')).toMatchObject({ a: '/features/features.28/Conv', b: defaultConfig('shapes', 32).tap });
    expect(at('architecture.family')).toMatchObject({ a: 'study', b: defaultConfig('shapes', 32).architecture.family });
    expect(rows.filter((r) => r.path.startsWith('student.')).every((r) => r.a === undefined)).toBe(true);
  });

  it("leaves a study's placeholder rates out of its differences, keeping the seed", () => {
    const c = { ...studyConfig(), seed: 3 };
    expect(describeDifferences(c)).toBe('seed 3');
    const { study: _s, ...trained } = c;
    expect(describeDifferences(trained)).toBe('seed 3, stage-1 lr 0.123');
  });
});

describe('a run trained here on an ONNX architecture', () => {
  it('shows its real training fields with the ONNX architecture, tap and teacher file', () => {
    const c: RunConfig = {
      ...studyConfig(),
      onnxRun: {
        architecture: { onnx: '/ws/experiments/x/onnx/architecture.onnx', classifier: '/fc/Gemm' },
        tap: '/Relu_1',
        pretrained: '/ws/experiments/x/onnx/architecture.onnx'
      }
    };
    const shown = shownConfig(c) as RunConfig & { architecture: Record<string, unknown> };
    expect(shown.architecture).toEqual({
      onnx: '/ws/experiments/x/onnx/architecture.onnx',
      classifier: '/fc/Gemm',
      inputSize: 32
    });
    expect(shown.tap).toBe('/Relu_1');
    expect(shown.teacher.pretrained).toBe('/ws/experiments/x/onnx/architecture.onnx');
    expect(shown.student.stage1.lr).toBe(0.123);
    expect('study' in shown).toBe(false);
  });
});
