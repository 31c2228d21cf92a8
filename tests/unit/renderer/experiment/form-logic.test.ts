// @vitest-environment happy-dom
import { describeDifferences } from '../../../../src/common/run-differences';
import { describe, expect, it } from 'vitest';
import {
  errorsByField,
  getPath,
  parseListText,
  parseNumberText,
  setPath,
  suggestName,
  textValue,
  valueText
} from '../../../../src/renderer/src/experiment/form-logic';
import { ALL_FIELDS, errorTestId, fieldTestId } from '../../../../src/renderer/src/experiment/fields';
import { demoConfig } from '../../../../src/common/defaults';

describe('form logic', () => {
  it("reads a field's typed text: 'auto' only where the field takes it, '' as null only where nullable", () => {
    const rate = { path: 'r', label: 'rate', kind: 'number', help: '', auto: true } as const;
    const optional = { path: 'o', label: 'optional', kind: 'int', help: '', nullable: true } as const;
    const list = { path: 'l', label: 'list', kind: 'list', help: '' } as const;
    expect(textValue(rate, ' auto ')).toBe('auto');
    expect(textValue(optional, 'auto')).toBeNaN();
    expect(textValue(optional, '  ')).toBeNull();
    expect(textValue(rate, '')).toBeNaN();
    expect(textValue(rate, '0.05')).toBe(0.05);
    expect(textValue(list, '16, 32 64')).toEqual([16, 32, 64]);
    expect(textValue(undefined, '7')).toBe(7);
  });

  it('reads and writes by dotted path, into arrays too', () => {
    const c = demoConfig();
    expect(getPath(c, 'architecture.fcUnits.1')).toBe(64);
    setPath(c, 'architecture.fcUnits.1', 32);
    expect(c.architecture.fcUnits).toEqual([128, 32]);
    expect(getPath(c, 'nothing.here')).toBeUndefined();
  });

  it('turns text into numbers, keeping what is not a number as NaN', () => {
    expect(parseNumberText(' 1e-4 ')).toBe(0.0001);
    expect(parseNumberText('')).toBeNaN();
    expect(parseNumberText('abc')).toBeNaN();
    expect(parseListText('16, 32 64;128')).toEqual([16, 32, 64, 128]);
    expect(parseListText('1, x')[1]).toBeNaN();
    expect(valueText([0, 5, 10])).toBe('0, 5, 10');
    expect(valueText(NaN)).toBe('');
    expect(valueText(null)).toBe('');
  });

  it('files each issue under its field, the first message winning', () => {
    const errors = errorsByField(
      [
        { path: ['architecture', 'channels', 1], message: 'bad channel' },
        { path: ['architecture', 'channels', 2], message: 'second' },
        { path: ['baseline', 'epochs'], message: 'too small' },
        { path: ['normalization', 'std', 0], message: 'must be positive' }
      ],
      ALL_FIELDS
    );
    expect(errors).toEqual({
      'architecture.channels': 'bad channel',
      'baseline.epochs': 'too small',
      'normalization.std.0': 'must be positive'
    });
  });

  it('suggests a name carrying dataset, architecture, tap, epochs, grid, images and seeds', () => {
    const c = demoConfig();
    expect(suggestName(c)).toBe('demo-vgg32-fc1-e30-g8-n24');
    expect(suggestName({ ...c, seeds: 3, tap: 'conv' })).toBe('demo-vgg32-conv-e30-g8-n24-x3');
    const long = suggestName({ ...c, dataset: 'x'.repeat(200) });
    expect(long.length).toBe(100);
    expect(long.endsWith('-vgg32-fc1-e30-g8-n24')).toBe(true);
  });

  it('tells runs apart: seed and rates that differ from the defaults, else a -2 suffix for a taken name', () => {
    const c = demoConfig();
    const reseeded = { ...c, seed: 3 };
    const slower = { ...c, student: { ...c.student, stage1: { ...c.student.stage1, lr: 0.01 } } };
    expect([suggestName(c), suggestName(reseeded), suggestName(slower)]).toEqual([
      'demo-vgg32-fc1-e30-g8-n24',
      'demo-vgg32-fc1-e30-g8-n24-seed3',
      'demo-vgg32-fc1-e30-g8-n24-s1lr0.01'
    ]);
    expect(describeDifferences(slower)).toBe('stage-1 lr 0.01');
    expect(suggestName(c, ['demo-vgg32-fc1-e30-g8-n24', 'demo-vgg32-fc1-e30-g8-n24-2'])).toBe(
      'demo-vgg32-fc1-e30-g8-n24-3'
    );
  });

  it('derives test ids from paths', () => {
    expect(fieldTestId('baseline.epochs')).toBe('config-baseline-epochs');
    expect(fieldTestId('quantification.images')).toBe('config-quantification-images');
    expect(errorTestId('architecture.fcUnits.0')).toBe('error-architecture-fcUnits-0');
  });

  it('covers every numeric setting of RunConfig the brief asks for', () => {
    const paths = ALL_FIELDS.map((f) => f.path);
    for (const p of [
      'architecture.family',
      'architecture.inputSize',
      'architecture.channels',
      'architecture.fcUnits.0',
      'tap',
      'teacher.pretrain.epochs',
      'teacher.finetune.lr',
      'student.stage1.epochs',
      'student.stage2.lr',
      'baseline.epochs',
      'baseline.lr',
      'checkpoints',
      'quantification.grid',
      'quantification.samples',
      'quantification.steps',
      'quantification.lambda',
      'quantification.targetEntropy',
      'quantification.threshold',
      'quantification.images',
      'quantification.batch',
      'seed',
      'seeds',
      'workers',
      'backend'
    ])
      expect(paths).toContain(p);
  });
});
