/*
 * The Annotate view's state: which sample of which dataset is open, its mask, the stroke history,
 * the tool settings (kept between images and in localStorage), and saving. Every completed stroke
 * is one writeMask call; undo and redo are the API's undoMask/redoMask, shown at once from a local
 * StrokeHistory with the same semantics while the call is in flight. Calls run one at a time, in
 * order; the server's answer to the last one is the truth. Drawing on the canvas is the editor
 * component's job, not this store's.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { MaskData } from '../../../common/api';
import { errorMessage, getApi } from '../api';
import {
  clampOpacity,
  clampSize,
  loadBrush,
  saveBrush,
  stepSize,
  type BrushSettings,
  type Tool
} from '../annotate/brush';
import { decodeMask, encodeMask } from '../annotate/codec';
import { StrokeHistory } from '../annotate/history';
import { countForeground } from '../annotate/raster';
import { useDatasetsStore } from './datasets';

const storage = (): Storage | null => {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
};

export const useAnnotationStore = defineStore('annotation', () => {
  const datasets = useDatasetsStore();
  const datasetId = ref<string | null>(null);
  const sampleIds = ref<string[]>([]);
  const index = ref(0);
  const image = ref<string | null>(null);
  const width = ref(0);
  const height = ref(0);
  const mask = shallowRef<Uint8Array | null>(null);
  const canUndo = ref(0);
  const canRedo = ref(0);
  const edited = ref(false);
  const pending = ref(0);
  const saveError = ref<string | null>(null);
  const loadError = ref<string | null>(null);
  const loading = ref(false);
  const brush = ref<BrushSettings>(loadBrush(storage()));
  let history: StrokeHistory | null = null;
  /** The local history's counts (the server's may lag while a call is in flight). */
  const localUndo = ref(0);
  const localRedo = ref(0);
  const syncLocal = (): void => {
    localUndo.value = history?.canUndo ?? 0;
    localRedo.value = history?.canRedo ?? 0;
  };
  let queue: Promise<unknown> = Promise.resolve();
  let loadSeq = 0;

  const sampleId = computed(() => sampleIds.value[index.value] ?? null);
  const foregroundPixels = computed(() => (mask.value ? countForeground(mask.value) : 0));
  const undoable = computed(() => mask.value !== null && (canUndo.value > 0 || localUndo.value > 0));
  const redoable = computed(() => mask.value !== null && (canRedo.value > 0 || localRedo.value > 0));
  const saveState = computed<'saved' | 'saving' | 'error'>(() =>
    saveError.value ? 'error' : pending.value > 0 ? 'saving' : 'saved'
  );
  const statusText = computed(() => {
    if (!mask.value) return loading.value ? 'loading…' : 'no mask open';
    const save =
      saveState.value === 'error'
        ? `not saved: ${saveError.value}`
        : saveState.value === 'saving'
          ? 'saving…'
          : 'saved';
    return `fg ${foregroundPixels.value} px of ${width.value * height.value} · ${save}${edited.value ? ' · edited' : ''}`;
  });

  function persistBrush(): void {
    saveBrush(storage(), brush.value);
  }

  function setTool(tool: Tool): void {
    brush.value.tool = tool;
    persistBrush();
  }

  function toggleEraser(): void {
    setTool(brush.value.tool === 'eraser' ? 'brush' : 'eraser');
  }

  function setSize(size: number): void {
    brush.value.size = clampSize(size);
    persistBrush();
  }

  function stepBrush(direction: -1 | 1): void {
    setSize(stepSize(brush.value.size, direction));
  }

  function setOpacity(opacity: number): void {
    brush.value.opacity = clampOpacity(opacity);
    persistBrush();
  }

  /** Opens a dataset at a sample (its first sample when none or unknown). */
  async function open(id: string, sample?: string | null): Promise<void> {
    const manifest = await datasets.manifest(id);
    if (!manifest) {
      loadError.value = datasets.manifestErrors[id] ?? `dataset '${id}' could not be opened`;
      return;
    }
    datasetId.value = id;
    sampleIds.value = manifest.samples.map((s) => s.id);
    const k = sample ? sampleIds.value.indexOf(sample) : -1;
    index.value = Math.max(0, k);
    await loadSample();
  }

  async function loadSample(): Promise<void> {
    const ds = datasetId.value;
    const id = sampleId.value;
    const seq = ++loadSeq;
    if (!ds || !id) {
      mask.value = null;
      return;
    }
    loading.value = true;
    loadError.value = null;
    try {
      await queue.catch(() => undefined);
      const [m, imgs] = await Promise.all([
        getApi().readMask({ datasetId: ds, sampleId: id }),
        datasets.sampleImages(ds, id)
      ]);
      if (seq !== loadSeq) return;
      const data = decodeMask(m.data, m.width * m.height);
      history = new StrokeHistory(data);
      syncLocal();
      width.value = m.width;
      height.value = m.height;
      image.value = imgs.image;
      mask.value = data;
      canUndo.value = m.canUndo;
      canRedo.value = m.canRedo;
      edited.value = m.edited;
      saveError.value = null;
    } catch (err) {
      if (seq === loadSeq) {
        loadError.value = errorMessage(err);
        mask.value = null;
      }
    } finally {
      if (seq === loadSeq) loading.value = false;
    }
  }

  async function go(delta: number): Promise<void> {
    const k = Math.max(0, Math.min(sampleIds.value.length - 1, index.value + delta));
    if (k === index.value) return;
    index.value = k;
    await loadSample();
  }

  /** Runs one API call after the earlier ones; the last answer for the open sample wins. */
  function enqueue(call: () => Promise<MaskData>): Promise<void> {
    const ds = datasetId.value!;
    const id = sampleId.value!;
    pending.value++;
    const run = queue.then(async () => {
      try {
        const answer = await call();
        if (ds !== datasetId.value || id !== sampleId.value) return;
        canUndo.value = answer.canUndo;
        canRedo.value = answer.canRedo;
        edited.value = answer.edited;
        datasets.markEdited(ds, id, answer.edited);
        saveError.value = null;
        if (pending.value === 1) {
          const data = decodeMask(answer.data, answer.width * answer.height);
          history?.adopt(data);
          mask.value = data;
        }
        syncLocal();
      } catch (err) {
        saveError.value = errorMessage(err);
      } finally {
        pending.value--;
      }
    });
    queue = run;
    return run;
  }

  /** One completed stroke: shown now, saved as one writeMask call. No call when nothing changed. */
  function commit(next: Uint8Array): Promise<void> {
    if (!history || !mask.value || !history.commit(next)) return Promise.resolve();
    mask.value = history.current;
    syncLocal();
    const request = {
      datasetId: datasetId.value!,
      sampleId: sampleId.value!,
      width: width.value,
      height: height.value,
      data: encodeMask(next)
    };
    return enqueue(() => getApi().writeMask(request));
  }

  function undo(): Promise<void> {
    if (!history || !mask.value || (canUndo.value === 0 && history.canUndo === 0)) return Promise.resolve();
    const local = history.undo();
    if (local) mask.value = local;
    syncLocal();
    const request = { datasetId: datasetId.value!, sampleId: sampleId.value! };
    return enqueue(() => getApi().undoMask(request));
  }

  function redo(): Promise<void> {
    if (!history || !mask.value || (canRedo.value === 0 && history.canRedo === 0)) return Promise.resolve();
    const local = history.redo();
    if (local) mask.value = local;
    syncLocal();
    const request = { datasetId: datasetId.value!, sampleId: sampleId.value! };
    return enqueue(() => getApi().redoMask(request));
  }

  /** Back to the imported mask, as a new undoable step (the server knows the imported mask). */
  function reset(): Promise<void> {
    if (!history || !mask.value) return Promise.resolve();
    const request = { datasetId: datasetId.value!, sampleId: sampleId.value! };
    return enqueue(async () => {
      const answer = await getApi().resetMask(request);
      history?.commit(decodeMask(answer.data, answer.width * answer.height));
      return answer;
    });
  }

  /** Resolves when every call made so far has answered. */
  function settled(): Promise<void> {
    return queue.then(
      () => undefined,
      () => undefined
    );
  }

  return {
    datasetId,
    sampleIds,
    index,
    sampleId,
    image,
    width,
    height,
    mask,
    canUndo,
    canRedo,
    undoable,
    redoable,
    edited,
    pending,
    saveError,
    loadError,
    loading,
    brush,
    foregroundPixels,
    saveState,
    statusText,
    setTool,
    toggleEraser,
    setSize,
    stepBrush,
    setOpacity,
    open,
    loadSample,
    go,
    commit,
    undo,
    redo,
    reset,
    settled
  };
});
