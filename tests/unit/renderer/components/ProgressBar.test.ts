// @vitest-environment happy-dom
/* The progress bar: filled to the fraction, the rounded percentage announced, the parent's test id on the bar. */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import ProgressBar from '../../../../src/renderer/src/components/ProgressBar.vue';

describe('ProgressBar', () => {
  it('fills to the fraction and announces the rounded percentage', () => {
    const w = mount(ProgressBar, { props: { fraction: 0.237 }, attrs: { 'data-testid': 'upload-progress' } });
    const bar = w.find('[data-testid="upload-progress"]');
    expect(bar.attributes('role')).toBe('progressbar');
    expect(bar.attributes('aria-valuenow')).toBe('24');
    expect((w.find('.fill').element as HTMLElement).style.width).toBe('23.7%');
  });
});
