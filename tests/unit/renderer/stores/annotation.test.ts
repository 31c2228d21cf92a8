// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { setApi } from '../../../../src/renderer/src/api';
import { useAnnotationStore } from '../../../../src/renderer/src/stores/annotation';
import { useDatasetsStore } from '../../../../src/renderer/src/stores/datasets';
import { decodeMask } from '../../../../src/renderer/src/annotate/codec';
import { fillBox, paintStroke } from '../../../../src/renderer/src/annotate/raster';
import { BRUSH_KEY } from '../../../../src/renderer/src/annotate/brush';
import { FakeApi, flush } from '../fake-api';

let api: FakeApi;
beforeEach(() => {
  api = new FakeApi();
  setApi(api);
  setActivePinia(createPinia());
  window.localStorage.clear();
});

/** The open mask with a box from pixel (0,0) to (x,y) painted. */
function withBox(store: ReturnType<typeof useAnnotationStore>, x: number, y: number): Uint8Array {
  const m = { width: store.width, height: store.height, data: store.mask!.slice() };
  fillBox(m, { x: 0, y: 0 }, { x, y }, 1);
  return m.data;
}

describe('annotation store', () => {
  it('opens a sample with its mask (the fake marks pixel 0)', async () => {
    const a = useAnnotationStore();
    await a.open('demo', 's2');
    expect(a.sampleId).toBe('s2');
    expect([a.width, a.height]).toEqual([8, 8]);
    expect(a.foregroundPixels).toBe(1);
    expect(a.statusText).toBe('fg 1 px of 64 · saved');
  });

  it('saves each completed stroke with one writeMask call', async () => {
    const a = useAnnotationStore();
    await a.open('demo');
    const next = withBox(a, 2.5, 1.5); // 3 x 2 = 6 pixels, pixel 0 among them
    const saving = a.commit(next);
    expect(a.foregroundPixels).toBe(6);
    await saving;
    const writes = api.callsOf('writeMask') as { data: string; width: number }[];
    expect(writes).toHaveLength(1);
    expect(Array.from(decodeMask(writes[0].data, 64)).reduce((s, v) => s + v, 0)).toBe(6);
    expect([a.canUndo, a.canRedo, a.edited]).toEqual([1, 0, true]);
  });

  it('makes no call for a stroke that changed nothing', async () => {
    const a = useAnnotationStore();
    await a.open('demo');
    await a.commit(a.mask!.slice());
    expect(api.callsOf('writeMask')).toHaveLength(0);
  });

  it('undoes and redoes one stroke at a time, through the API', async () => {
    const a = useAnnotationStore();
    await a.open('demo');
    await a.commit(withBox(a, 1.5, 0.5)); // 2 px
    await a.commit(withBox(a, 3.5, 0.5)); // 4 px
    const undoing = a.undo();
    expect(a.foregroundPixels).toBe(2); // shown before the API answers
    await undoing;
    expect(api.callsOf('undoMask')).toHaveLength(1);
    await a.undo();
    expect(a.foregroundPixels).toBe(1);
    expect([a.canUndo, a.canRedo, a.edited]).toEqual([0, 2, false]);
    await a.redo();
    expect(a.foregroundPixels).toBe(2);
    await a.undo();
    await a.undo();
    expect(api.callsOf('undoMask')).toHaveLength(3);
  });

  it('shows "saving…" while a call is in flight, then the server state', async () => {
    const a = useAnnotationStore();
    await a.open('demo');
    api.holdWrites = true;
    const m = { width: 8, height: 8, data: a.mask!.slice() };
    paintStroke(m, [{ x: 4.5, y: 4.5 }], 3, 1);
    const saving = a.commit(m.data);
    await flush();
    expect(a.statusText).toBe('fg 10 px of 64 · saving…');
    api.release();
    await saving;
    expect(a.statusText).toBe('fg 10 px of 64 · saved · edited');
  });

  it('says in words when a save failed', async () => {
    const a = useAnnotationStore();
    await a.open('demo');
    api.failNext.set('writeMask', 'disk full');
    await a.commit(withBox(a, 2, 2));
    expect(a.saveState).toBe('error');
    expect(a.statusText).toContain('not saved: disk full');
  });

  it('resets to the imported mask as an undoable step', async () => {
    const a = useAnnotationStore();
    await a.open('demo');
    await a.commit(withBox(a, 4, 4));
    await a.reset();
    expect(a.foregroundPixels).toBe(1);
    expect(a.canUndo).toBe(2);
    await a.undo();
    expect(a.foregroundPixels).toBe(25);
  });

  it('steps through samples, clamped at both ends, after pending saves', async () => {
    const a = useAnnotationStore();
    await a.open('demo', 's3');
    await a.go(1);
    expect(a.sampleId).toBe('s3');
    void a.commit(withBox(a, 1, 1));
    await a.go(-1);
    expect(a.sampleId).toBe('s2');
    expect(api.callsOf('writeMask')).toHaveLength(1);
    expect((api.callsOf('writeMask')[0] as { sampleId: string }).sampleId).toBe('s3');
  });

  it('marks the sample edited in the datasets store', async () => {
    const datasets = useDatasetsStore();
    const a = useAnnotationStore();
    await a.open('demo', 's1');
    await a.commit(withBox(a, 1, 1));
    expect(datasets.manifests.demo.samples[1].edited).toBe(true);
  });

  it('keeps the brush settings across images and in localStorage', async () => {
    const a = useAnnotationStore();
    a.setSize(9);
    a.stepBrush(1);
    a.toggleEraser();
    a.setOpacity(0.8);
    await a.open('demo');
    await a.go(1);
    expect(a.brush).toEqual({ tool: 'eraser', size: 10, opacity: 0.8 });
    expect(JSON.parse(window.localStorage.getItem(BRUSH_KEY)!)).toEqual({ tool: 'eraser', size: 10, opacity: 0.8 });
    setActivePinia(createPinia());
    expect(useAnnotationStore().brush.size).toBe(10);
  });

  it('names a dataset that cannot be opened', async () => {
    const a = useAnnotationStore();
    await a.open('missing');
    expect(a.loadError).toBe("dataset 'missing' not found");
  });
});
