// @vitest-environment happy-dom
/*
 * The editor maps pointer events to strokes: one drag = one commit = one writeMask call, Shift
 * erases, the box tool fills on release. The canvas's on-screen box is stubbed (10 px per pixel).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { mount, type VueWrapper } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import MaskEditor from '../../../../src/renderer/src/components/MaskEditor.vue';
import { useAnnotationStore } from '../../../../src/renderer/src/stores/annotation';
import { FakeApi, flush } from '../fake-api';

let api: FakeApi;
let a: ReturnType<typeof useAnnotationStore>;
let w: VueWrapper;

beforeEach(async () => {
  window.localStorage.clear();
  api = new FakeApi();
  setApi(api);
  const pinia = createPinia();
  setActivePinia(pinia);
  a = useAnnotationStore();
  await a.open('demo');
  w = mount(MaskEditor, { global: { plugins: [pinia] } });
  const canvas = w.find('[data-testid="mask-canvas"]').element as HTMLCanvasElement;
  canvas.getBoundingClientRect = () => ({
    left: 0,
    top: 0,
    width: 80,
    height: 80,
    right: 80,
    bottom: 80,
    x: 0,
    y: 0,
    toJSON: () => ({})
  });
});

function pointer(type: string, x: number, y: number, extra: PointerEventInit = {}): void {
  w.find('.stage').element.dispatchEvent(
    new PointerEvent(type, { clientX: x, clientY: y, button: 0, pointerId: 1, bubbles: true, ...extra })
  );
}

describe('MaskEditor', () => {
  it('turns one drag into one stroke and one writeMask call', async () => {
    a.setTool('brush');
    a.setSize(1);
    pointer('pointerdown', 5, 5);
    pointer('pointermove', 25, 5);
    pointer('pointermove', 45, 5);
    expect(api.callsOf('writeMask')).toHaveLength(0);
    pointer('pointerup', 45, 5);
    await a.settled();
    expect(api.callsOf('writeMask')).toHaveLength(1);
    expect(a.foregroundPixels).toBe(5); // pixels 0..4 of row 0 (pixel 0 was foreground already)
  });

  it('erases while Shift is held', async () => {
    a.setTool('brush');
    a.setSize(1);
    pointer('pointerdown', 5, 5, { shiftKey: true });
    pointer('pointerup', 5, 5, { shiftKey: true });
    await a.settled();
    expect(a.foregroundPixels).toBe(0);
  });

  it('fills a box from the pixel under the press to the pixel under the release', async () => {
    a.setTool('box');
    pointer('pointerdown', 25, 25);
    pointer('pointermove', 45, 35);
    pointer('pointerup', 45, 35);
    await a.settled();
    expect(a.foregroundPixels).toBe(1 + 3 * 2); // pixels (2..4, 2..3) plus the original pixel 0
  });

  it('fills a polygon from the clicked corners when closed', async () => {
    a.setTool('polygon');
    await flush();
    for (const [x, y] of [
      [20, 20],
      [60, 20],
      [60, 60]
    ]) {
      pointer('pointerdown', x, y);
      pointer('pointerup', x, y);
    }
    expect((w.vm as unknown as { closePolygon: () => boolean }).closePolygon()).toBe(true);
    await a.settled();
    // triangle (2,2) (6,2) (6,6), inside where x >= y (a centre on the left edge x = y is inside,
    // as in raster.ts): row 2 -> i = 2..5, row 3 -> 3..5, row 4 -> 4..5, row 5 -> 5: 4+3+2+1 = 10
    expect(a.foregroundPixels).toBe(1 + 10);
  });
});
