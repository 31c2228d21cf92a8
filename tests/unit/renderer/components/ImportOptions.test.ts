// @vitest-environment happy-dom
/*
 * The import wizard's options: each text field edits its own model, the schema's problem shows under the
 * checked fields (not under the class list), and the centre-region choice only for a plain folder.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ImportOptions from '../../../../src/renderer/src/components/ImportOptions.vue';

const byId = (id: string): string => `[data-testid="${id}"]`;
const props = (over: Record<string, unknown> = {}) => ({
  format: 'folder' as const,
  problems: {},
  size: '48',
  cropScale: '1.5',
  classes: 'cat',
  maxPerClass: '10',
  minSize: '2',
  centreRegion: false,
  ...over
});

describe('ImportOptions', () => {
  it('edits each field through its own model', async () => {
    const w = mount(ImportOptions, { props: props() });
    expect((w.find(byId('import-crop-scale')).element as HTMLInputElement).value).toBe('1.5');
    expect(w.find(byId('import-crop-scale')).attributes('inputmode')).toBe('decimal');
    await w.find(byId('import-max-per-class')).setValue('30');
    await w.find(byId('import-classes')).setValue('cat, dog');
    await w.find(byId('import-centre')).setValue(true);
    expect(w.emitted('update:maxPerClass')).toEqual([['30']]);
    expect(w.emitted('update:classes')).toEqual([['cat, dog']]);
    expect(w.emitted('update:centreRegion')).toEqual([[true]]);
    expect(w.emitted('update:size')).toBeUndefined();
  });

  it("shows the schema's problems under the checked fields, and the centre choice only for a folder", () => {
    const w = mount(ImportOptions, {
      props: props({ format: 'voc', problems: { size: 'too small', classes: 'never shown' } })
    });
    expect(w.find(byId('import-size')).attributes('aria-invalid')).toBe('true');
    expect(w.find(byId('import-min-size')).attributes('aria-invalid')).toBe('false');
    expect(w.find(byId('import-classes')).attributes('aria-invalid')).toBeUndefined();
    expect(w.findAll('small.error').map((e) => e.text())).toEqual(['too small']);
    expect(w.find(byId('import-centre')).exists()).toBe(false);
  });
});
