/*
 * The cross-field checks of RunConfigSchema (the CLI, the server and the form refuse the same
 * configurations) and the checks against the target dataset; field-rules' messages in words.
 */
import { describe, expect, it } from 'vitest';
import { RunConfigSchema, type RunConfig } from '../../../src/common/config';
import { crossFieldProblems, datasetProblems } from '../../../src/common/config-checks';
import { defaultConfig, demoConfig } from '../../../src/common/defaults';
import { allowedText, issueInWords, ruleOf, schemaAt } from '../../../src/common/field-rules';

const messages = (c: unknown): Record<string, string> => {
  const r = RunConfigSchema.safeParse(c);
  return r.success ? {} : Object.fromEntries(r.error.issues.map((i) => [i.path.join('.'), i.message]));
};
const withTeacher = (t: Partial<RunConfig['teacher']>): RunConfig => ({
  ...demoConfig(),
  teacher: { ...demoConfig().teacher, ...t }
});

describe('cross-field checks in RunConfigSchema', () => {
  it('accepts the demo configurations and the defaults for a dataset', () => {
    expect(messages(demoConfig())).toEqual({});
    expect(messages(demoConfig(true))).toEqual({});
    expect(messages(defaultConfig('birds', 64))).toEqual({});
  });

  it('refuses a checkpoint past the 150-epoch scale, naming the item', () => {
    expect(messages({ ...demoConfig(), checkpoints: [0, 150, 500] })).toEqual({
      'checkpoints.2': 'checkpoint 500 is past the end of the 150-epoch scale: use 0 to 150'
    });
    expect(messages({ ...demoConfig(), checkpoints: [0, 150] })).toEqual({});
  });

  it('refuses run names that are not safe', () => {
    for (const name of ['my run/../x', '../x', 'a\\b', ' lead', 'a..b'])
      expect(Object.keys(messages({ ...demoConfig(), name })), name).toEqual(['name']);
    for (const name of ['my run (v2)', 'demo-vgg32-fc1', 'lr=0.01, b+1'])
      expect(messages({ ...demoConfig(), name }), name).toEqual({});
  });

  it('refuses a teacher with both a source and a pretrained folder, or a source with zero pretrain epochs', () => {
    expect(Object.keys(messages(withTeacher({ pretrained: '/models/t' })))).toEqual(['teacher.pretrained']);
    expect(Object.keys(messages(withTeacher({ pretrain: { ...demoConfig().teacher.pretrain, epochs: 0 } })))).toEqual([
      'teacher.pretrain.epochs'
    ]);
    expect(Object.keys(messages(withTeacher({ source: 'demo' })))).toEqual(['teacher.source']);
    expect(messages(withTeacher({ source: null, pretrained: '/models/t' }))).toEqual({});
    expect(Object.keys(messages(withTeacher({ source: null, pretrained: '  ' })))).toEqual(['teacher.pretrained']);
  });

  it('refuses zero epochs for a network whose checkpoints are scaled to its epochs', () => {
    const c = demoConfig();
    expect(Object.keys(messages({ ...c, baseline: { ...c.baseline, epochs: 0 } }))).toEqual(['baseline.epochs']);
    expect(
      Object.keys(messages({ ...c, student: { ...c.student, stage1: { ...c.student.stage1, epochs: 0 } } }))
    ).toEqual(['student.stage1.epochs']);
  });

  it('refuses more analysed images than the dataset has training images', () => {
    const c = { ...demoConfig(), quantification: { ...demoConfig().quantification, images: 100000 } };
    expect(crossFieldProblems(c)).toEqual([]);
    expect(datasetProblems(c, { id: 'birds', trainImages: 650, size: 64 })).toEqual([
      {
        path: ['quantification', 'images'],
        message: "images analysed (100000) is more than the 650 training images of dataset 'birds'"
      }
    ]);
    expect(
      datasetProblems(
        { ...c, quantification: { ...c.quantification, images: 650 } },
        { id: 'birds', trainImages: 650, size: 64 }
      )
    ).toEqual([]);
  });
});

describe('defaultConfig', () => {
  it("takes the dataset's size as input size (clamped to the schema's 8..512) and leaves the teacher unpretrained", () => {
    expect(defaultConfig('birds', 64).architecture.inputSize).toBe(64);
    expect(defaultConfig('big', 1024).architecture.inputSize).toBe(512);
    expect(defaultConfig('x').architecture.inputSize).toBe(32);
    const t = defaultConfig('birds', 64).teacher;
    expect([t.source, t.pretrained, t.pretrain.epochs]).toEqual([null, null, 0]);
  });
});

describe('field rules: messages in words', () => {
  it('reads the range of a field from the schema', () => {
    expect(allowedText(ruleOf(schemaAt(RunConfigSchema, ['quantification', 'grid'])!))).toBe(
      'a whole number from 1 to 64'
    );
    expect(allowedText(ruleOf(schemaAt(RunConfigSchema, ['quantification', 'lr'])!))).toBe('a number, above 0');
    expect(allowedText(ruleOf(schemaAt(RunConfigSchema, ['architecture', 'fcUnits', 1])!))).toBe(
      'a whole number, at least 1'
    );
    expect(allowedText(ruleOf(schemaAt(RunConfigSchema, ['quantification', 'maskRule'])!))).toBe(
      'one of top-left, majority, any'
    );
    expect(allowedText(ruleOf(schemaAt(RunConfigSchema, ['training', 'momentum'])!))).toBe('a number from 0 to 0.999');
  });

  it('names the field, the range, the item of a list and what was typed', () => {
    const r = RunConfigSchema.safeParse({
      ...demoConfig(),
      architecture: { ...demoConfig().architecture, channels: [16, NaN] },
      quantification: { ...demoConfig().quantification, steps: NaN }
    });
    const issues = r.success ? [] : r.error.issues;
    const byPath = Object.fromEntries(issues.map((i) => [i.path.join('.'), i]));
    expect(issueInWords(RunConfigSchema, byPath['architecture.channels.1'], 'conv channels', '16, x')).toBe(
      'conv channels (item 2) must be a whole number from 1 to 4096 (got “16, x”)'
    );
    expect(issueInWords(RunConfigSchema, byPath['quantification.steps'], 'sigma steps', '')).toBe(
      'sigma steps must be a whole number from 1 to 10000 (it is empty)'
    );
    const custom = { code: 'custom', path: ['checkpoints', 0], message: 'as written' };
    expect(issueInWords(RunConfigSchema, custom, 'x')).toBe('as written');
  });
});
