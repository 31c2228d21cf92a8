// @vitest-environment happy-dom
/*
 * The mask editor's overlay: a box dragged up and left is drawn from its smaller corner with positive
 * sides, the brush outline at its centre and radius, the polygon's points as given; nothing when idle.
 */
import { describe, expect, it } from 'vitest';
import { mount } from '@vue/test-utils';
import MaskOverlay from '../../../../src/renderer/src/components/MaskOverlay.vue';

describe('MaskOverlay', () => {
  it('draws the box from its smaller corner, the brush and the polygon', () => {
    const w = mount(MaskOverlay, {
      props: {
        width: 32,
        height: 24,
        cursor: { x: 5.5, y: 6.5, r: 2 },
        box: { a: { x: 10, y: 12 }, b: { x: 4, y: 3 } },
        polygon: '1,1 8,1 8,9'
      }
    });
    expect(w.find('svg').attributes('viewBox')).toBe('0 0 32 24');
    const rect = w.find('rect');
    expect(['x', 'y', 'width', 'height'].map((k) => rect.attributes(k))).toEqual(['4', '3', '6', '9']);
    const circle = w.find('circle');
    expect(['cx', 'cy', 'r'].map((k) => circle.attributes(k))).toEqual(['5.5', '6.5', '2']);
    expect(w.find('polyline').attributes('points')).toBe('1,1 8,1 8,9');
  });

  it('draws nothing without a brush, box or polygon', () => {
    const w = mount(MaskOverlay, { props: { width: 8, height: 8, cursor: null, box: null, polygon: '' } });
    expect(w.findAll('circle, rect, polyline')).toHaveLength(0);
  });
});
