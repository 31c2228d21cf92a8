import { describe, it, expect } from 'vitest';
import * as C from '../../../../src/engine/experiment/checks';

describe('protocol checks, each on both sides of its limit', () => {
  it('teacher-beats-baseline fails when the teacher is not above the baseline', () => {
    const weak = C.teacherBeatsBaseline(0.525, 0.783);
    expect(weak.status).toBe('fail');
    expect(weak.value).toBeCloseTo(-0.258, 10);
    expect(weak.message.split(':')[0]).toBe('the teacher is weaker than the baseline');
    expect(weak.advice).toMatch(/fine-tune/);
    expect(C.teacherBeatsBaseline(0.8, 0.8).status).toBe('fail');
    expect(C.teacherBeatsBaseline(0.81, 0.8).status).toBe('ok');
  });

  it('student-mimics-teacher warns when more than half of the variance is unexplained', () => {
    expect(C.studentMimicsTeacher('S', 0.26, true).status).toBe('ok');
    expect(C.studentMimicsTeacher('S', 0.5, true).status).toBe('ok');
    const w = C.studentMimicsTeacher('S', 0.51, true);
    expect(w.status).toBe('warn');
    expect(w.message).toContain('51.0 %');
    expect(C.studentMimicsTeacher('S', Number.NaN, false).status).toBe('warn');
    // All of the variance unexplained (no better than the teacher feature's mean): fail.
    expect(C.studentMimicsTeacher('S', 0.99, true).status).toBe('warn');
    const none = C.studentMimicsTeacher('S', 1.01, true);
    expect(none.status).toBe('fail');
    expect(none.message.split(':')[0]).toContain('101.0 %');
  });

  it('tap-alive fails when ReLU(f_L) is all zero on more than half of the images', () => {
    expect(C.tapAlive('S', 12, 24).status).toBe('ok');
    const dead = C.tapAlive('S', 13, 24);
    expect(dead.status).toBe('fail');
    expect(dead.value).toBeCloseTo(13 / 24, 12);
    expect(dead.message).toContain('13 of 24');
    expect(dead.advice).toMatch(/learning rate/);
    expect(C.tapAlive('S', 0, 0).status).toBe('ok');
  });

  it('student-learns fails at or below 1.25 x chance', () => {
    // 5 classes: chance 0.2, limit 0.25.
    expect(C.networkLearns('B', 0.25, 5).status).toBe('fail');
    expect(C.networkLearns('B', 0.26, 5).status).toBe('ok');
    expect(C.networkLearns('S', 0.62, 2).status).toBe('fail');
    expect(C.networkLearns('S', 0.63, 2).status).toBe('ok');
    expect(C.networkLearns('S', 0.62, 2).message.split(':')[0]).toBe('S has not learned the task');
  });

  it('concept-density warns outside 0.5 % to 60 %', () => {
    expect(C.conceptDensity('B', 0.004).status).toBe('warn');
    expect(C.conceptDensity('B', 0.005).status).toBe('ok');
    expect(C.conceptDensity('S', 0.6).status).toBe('ok');
    expect(C.conceptDensity('S', 0.61).status).toBe('warn');
    expect(C.conceptDensity('S', 0.004).advice).toMatch(/lower lambda/);
    expect(C.conceptDensity('S', 0.7).advice).toMatch(/raise lambda/);
  });

  it('foreground-coverage warns when the mean share is above 90 % or below 5 %', () => {
    // Hand-made shares: means 0.95, 0.9, 0.05, 0.04.
    expect(C.foregroundCoverage([1, 0.9], 'any').status).toBe('warn');
    expect(C.foregroundCoverage([1, 0.8], 'any').status).toBe('ok');
    expect(C.foregroundCoverage([0.1, 0], 'top-left').status).toBe('ok');
    const low = C.foregroundCoverage([0.08, 0], 'top-left');
    expect(low.status).toBe('warn');
    expect(low.value).toBeCloseTo(0.04, 12);
  });

  it('never-learned warns above a quarter of the images', () => {
    expect(C.neverLearned('B', 6, 24).status).toBe('ok');
    expect(C.neverLearned('B', 7, 24).status).toBe('warn');
    expect(C.neverLearned('B', 7, 24).value).toBeCloseTo(7 / 24, 12);
    expect(C.neverLearned('B', 0, 0).status).toBe('ok');
  });

  it('sample-size warns below 20 paired images', () => {
    expect(C.sampleSize(19).status).toBe('warn');
    expect(C.sampleSize(20).status).toBe('ok');
  });

  it('dropped-images counts each filter and warns above a quarter of the drawn images', () => {
    const ok = C.droppedImages('S', { notEffective: 1, noForeground: 2, backgroundFilter: 3 }, 24);
    expect(ok.status).toBe('ok');
    expect(ok.value).toBe(6);
    expect(ok.message).toContain('1 not effective');
    expect(ok.message).toContain('2 without foreground');
    expect(ok.message).toContain('3 by the background filter');
    expect(C.droppedImages('S', { notEffective: 7, noForeground: 0, backgroundFilter: 0 }, 24).status).toBe('warn');
  });

  it('training-diverged warns when any stage rolled back', () => {
    expect(C.trainingRecovered([]).status).toBe('ok');
    const w = C.trainingRecovered([{ net: 'S', stage: 'student stage 1', epoch: 2 }]);
    expect(w.status).toBe('warn');
    expect(w.message).toContain('S student stage 1 epoch 2');
  });

  it('failReasons gives the clause before the colon of each failing check', () => {
    const checks = [C.teacherBeatsBaseline(0.5, 0.7), C.sampleSize(3), C.networkLearns('B', 0.1, 5)];
    expect(C.failReasons(checks)).toEqual(['the teacher is weaker than the baseline', 'B has not learned the task']);
  });
});
