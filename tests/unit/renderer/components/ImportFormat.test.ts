// @vitest-environment happy-dom
/*
 * The import wizard's format field: the detected format's reason when it is the chosen one, else the
 * warning naming both formats with a button to use the detected one; the "start again" line only once
 * warned; a pick from the list reported as the user's choice.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ImportFormat from '../../../../src/renderer/src/components/ImportFormat.vue';

const byId = (id: string): string => `[data-testid="${id}"]`;
const COCO = { format: 'coco' as const, reason: 'found annotations/instances_val2017.json', src: 'val2017' };

describe('ImportFormat', () => {
  it('shows the reason when the detected format is the chosen one', () => {
    const w = mount(ImportFormat, {
      props: { format: 'coco', detected: { guess: COCO, what: 'coco.zip' }, warned: false }
    });
    expect(w.find(byId('import-detected')).text()).toBe(`Detected COCO: ${COCO.reason}.`);
    expect(w.find(byId('import-format-warning')).exists()).toBe(false);
  });

  it('warns of a disagreement, offers the detected format, and says a second start imports anyway', async () => {
    const w = mount(ImportFormat, {
      props: { format: 'voc', detected: { guess: COCO, what: '/data/x' }, warned: false }
    });
    const warning = (): string => w.find(byId('import-format-warning')).text();
    expect(warning()).toMatch(
      /^\/data\/x looks like COCO \(found annotations\/instances_val2017\.json\), not Pascal VOC\./
    );
    expect(warning()).not.toContain('anyway');
    await w.find(byId('import-use-detected')).trigger('click');
    expect(w.emitted('useDetected')).toHaveLength(1);
    await w.setProps({ warned: true });
    expect(warning()).toContain('Start again to import as voc anyway.');
  });

  it('reports a pick from the list as the chosen format', async () => {
    const w = mount(ImportFormat, { props: { format: 'folder', detected: null, warned: false } });
    await w.find(byId('import-format')).setValue('cub');
    expect(w.emitted('update:format')).toEqual([['cub']]);
    expect(w.emitted('chosen')).toHaveLength(1);
    expect(w.find(byId('import-detected')).exists()).toBe(false);
  });
});
