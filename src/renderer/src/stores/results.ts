/*
 * The run shown in Results and Inspector: which one is selected, its detail (through the
 * experiments store, so it stays live), its metrics (parsed by the host), and the HTML report. The
 * Inspector's own state (image, order, slider, and the caches of getMaps/getInspectorImage) is
 * here too. Computes no statistics: every number shown comes from metrics.json or getMaps.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { CheckpointMaps, InspectorImage } from '../../../common/api';
import { errorMessage, getApi } from '../api';
import { useExperimentsStore } from './experiments';

export const useResultsStore = defineStore('results', () => {
  const experiments = useExperimentsStore();
  const selectedId = ref<string | null>(null);
  const loading = ref(false);
  const reportPath = ref<string | null>(null);
  const reportError = ref<string | null>(null);
  const reporting = ref(false);

  const detail = computed(() => (selectedId.value ? (experiments.details[selectedId.value] ?? null) : null));
  const error = computed(() => (selectedId.value ? (experiments.detailErrors[selectedId.value] ?? null) : null));
  // Parsed by the host through the experiment record; an unreadable file arrives as metricsError.
  const metrics = computed(() => detail.value?.metrics ?? null);
  const metricsError = computed(() => detail.value?.metricsError ?? null);

  async function select(id: string | null): Promise<void> {
    if (id !== selectedId.value) {
      reportPath.value = null;
      reportError.value = null;
      position.value = 0;
      checkpoint.value = Number.MAX_SAFE_INTEGER;
    }
    selectedId.value = id;
    if (!id) return;
    loading.value = true;
    try {
      await experiments.open(id);
    } finally {
      loading.value = false;
    }
  }

  /** Fetches (writing it first if missing) the HTML report; its path and text, or null. */
  async function report(): Promise<{ path: string; html: string } | null> {
    if (!selectedId.value) return null;
    reporting.value = true;
    try {
      const r = await getApi().getReport({ experimentId: selectedId.value });
      reportPath.value = r.path;
      reportError.value = null;
      return r;
    } catch (err) {
      reportError.value = errorMessage(err);
      return null;
    } finally {
      reporting.value = false;
    }
  }

  // Inspector
  /** Position in the display order of the analysed images. */
  const position = ref(0);
  const order = ref<'index' | 'differ'>('index');
  /** Slider position: index into S's and B's checkpoints (clamped per network; starts at the last). */
  const checkpoint = ref(Number.MAX_SAFE_INTEGER);
  const maps = new Map<string, Promise<CheckpointMaps>>();
  const inspectorImages = new Map<string, Promise<InspectorImage>>();

  function cached<T>(cache: Map<string, Promise<T>>, key: string, fetch: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit) return hit;
    const p = fetch();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
    return p;
  }

  /** One network's entropy maps at one checkpoint (cached per run, network and checkpoint). */
  function getMaps(experimentId: string, net: string, checkpointKey: string): Promise<CheckpointMaps> {
    return cached(maps, `${experimentId}|${net}|${checkpointKey}`, () =>
      getApi().getMaps({ experimentId, net, checkpoint: checkpointKey })
    );
  }

  function getImage(experimentId: string, index: number): Promise<InspectorImage> {
    return cached(inspectorImages, `${experimentId}|${index}`, () =>
      getApi().getInspectorImage({ experimentId, index })
    );
  }

  /** Drops cached maps of a run (its analysis went on: new checkpoints, H̄ known once metrics exist). */
  function forgetMaps(experimentId: string): void {
    for (const key of [...maps.keys()]) if (key.startsWith(`${experimentId}|`)) maps.delete(key);
  }

  return {
    selectedId,
    loading,
    detail,
    error,
    metrics,
    metricsError,
    reportPath,
    reportError,
    reporting,
    select,
    report,
    position,
    order,
    checkpoint,
    getMaps,
    getImage,
    forgetMaps
  };
});
