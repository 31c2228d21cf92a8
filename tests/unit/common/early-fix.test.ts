import { describe, it, expect } from 'vitest';
import { fixForStop } from '../../../src/common/early-fix';
import { demoConfig } from '../../../src/common/defaults';
import type { EarlyStop } from '../../../src/common/record-schemas';

const stop = (...ids: string[]): EarlyStop => ({
  after: 'the baseline',
  at: '2026-01-01T00:00:00.000Z',
  checks: ids.map((id) => ({ id, status: 'fail', message: id, advice: '' }))
});

describe('the fix offered after an early stop', () => {
  it('a weaker teacher: twice the fine-tuning, and another source or a pretrained teacher to choose', () => {
    const c = demoConfig(true);
    const fix = fixForStop(c, stop('teacher-beats-baseline'));
    expect(fix.config.teacher.finetune.epochs).toBe(2 * c.teacher.finetune.epochs);
    expect(fix.changes).toEqual([`teacher fine-tune epochs 6 → 12`]);
    expect(fix.todo[0]).toMatch(/another source set than 'demo-source'/);
    // The original is untouched.
    expect(c.teacher.finetune.epochs).toBe(6);
    const none = fixForStop({ ...c, teacher: { ...c.teacher, source: null } }, stop('teacher-beats-baseline'));
    expect(none.todo[0]).toMatch(/^choose a source set/);
  });

  it('a dead tap: stage 1 at lr "auto" with clipping; a student that does not mimic: twice the stage-1 epochs', () => {
    const c = { ...demoConfig(true), training: { ...demoConfig(true).training, clipNorm: null } };
    const fix = fixForStop(c, stop('student-mimics-teacher', 'tap-alive'));
    expect(fix.config.student.stage1.lr).toBe('auto');
    expect(fix.config.training.clipNorm).toBe(5);
    expect(fix.config.student.stage1.epochs).toBe(24);
    expect(fix.changes).toHaveLength(3);
  });
});
