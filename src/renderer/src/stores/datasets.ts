/*
 * Datasets: the list, each opened manifest, the crops and masks of samples (cached, oldest
 * dropped first), folder choice, import and demo-data jobs. Reloads on 'datasets-changed'. The
 * progress of an import is the jobs store's business; this store only starts it.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { DatasetSummary, ImportRequest, SampleImages } from '../../../common/api';
import type { DatasetManifest } from '../../../common/dataset';
import { errorMessage, getApi } from '../api';

export const IMAGE_CACHE_SIZE = 600;

export const useDatasetsStore = defineStore('datasets', () => {
  const list = ref<DatasetSummary[]>([]);
  const loaded = ref(false);
  const manifests = ref<Record<string, DatasetManifest>>({});
  const manifestErrors = ref<Record<string, string>>({});
  const selectedId = ref<string | null>(null);
  const error = ref<string | null>(null);
  const images = new Map<string, Promise<SampleImages>>();
  let unsubscribe: (() => void) | null = null;

  async function load(): Promise<void> {
    try {
      list.value = await getApi().listDatasets();
      loaded.value = true;
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  /** A dataset's manifest (fetched once; `force` fetches again). */
  async function manifest(id: string, force = false): Promise<DatasetManifest | null> {
    if (!force && manifests.value[id]) return manifests.value[id];
    try {
      manifests.value[id] = await getApi().getDataset({ id });
      delete manifestErrors.value[id];
      return manifests.value[id];
    } catch (err) {
      manifestErrors.value[id] = errorMessage(err);
      return null;
    }
  }

  async function start(): Promise<void> {
    if (!unsubscribe) {
      unsubscribe = getApi().on('datasets-changed', () => {
        void load();
        images.clear();
        for (const id of Object.keys(manifests.value)) void manifest(id, true);
      });
    }
    await load();
  }

  function stop(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  async function select(id: string | null): Promise<void> {
    selectedId.value = id;
    if (id) await manifest(id);
  }

  /** A sample's crop and mask (cached; a failed fetch is forgotten so it can be retried). */
  function sampleImages(datasetId: string, sampleId: string): Promise<SampleImages> {
    const key = `${datasetId}/${sampleId}`;
    const hit = images.get(key);
    if (hit) {
      images.delete(key);
      images.set(key, hit);
      return hit;
    }
    const p = getApi().getSampleImages({ datasetId, sampleId });
    images.set(key, p);
    p.catch(() => images.delete(key));
    while (images.size > IMAGE_CACHE_SIZE) images.delete(images.keys().next().value as string);
    return p;
  }

  /** Forgets one sample's cached images (after its mask was edited). */
  function forgetImages(datasetId: string, sampleId: string): void {
    images.delete(`${datasetId}/${sampleId}`);
  }

  /** Marks a sample edited or not in the cached manifest (the Annotate view saved a mask). */
  function markEdited(datasetId: string, sampleId: string, edited: boolean): void {
    const m = manifests.value[datasetId];
    const s = m?.samples.find((x) => x.id === sampleId);
    if (s) s.edited = edited;
    // The list's edited count follows at once (a reset lowers it) rather than at the next reload.
    const summary = list.value.find((d) => d.id === datasetId);
    if (summary && m) summary.edited = m.samples.filter((x) => x.edited).length;
    forgetImages(datasetId, sampleId);
  }

  /** The folder chooser: a dialog in Electron; in a browser the typed path, made readable. */
  async function chooseFolder(path?: string): Promise<string | null> {
    return getApi().chooseFolder(path ? { purpose: 'import', path } : { purpose: 'import' });
  }

  async function startImport(request: ImportRequest): Promise<string> {
    const { jobId } = await getApi().importDataset(request);
    return jobId;
  }

  /** Generates the demo datasets when missing; the job's id, or null when they exist already. */
  async function ensureDemo(): Promise<string | null> {
    try {
      const { jobId } = await getApi().ensureDemoData();
      error.value = null;
      if (!jobId) await load();
      return jobId;
    } catch (err) {
      error.value = errorMessage(err);
      return null;
    }
  }

  /**
   * The id of a dataset named by id or by name (an import job may carry the name typed, whose
   * slug is the id): the id when listed, else the newest dataset of that name, else the input.
   */
  function idFor(idOrName: string): string {
    if (list.value.some((d) => d.id === idOrName)) return idOrName;
    const byName = list.value.filter((d) => d.name === idOrName).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return byName[0]?.id ?? idOrName;
  }

  /** Renames a dataset (its id stays); the list reloads on 'datasets-changed'. Null on success, else the error. */
  async function rename(id: string, name: string): Promise<string | null> {
    try {
      await getApi().renameDataset({ id, name });
      const d = list.value.find((x) => x.id === id);
      if (d) d.name = name.trim();
      const m = manifests.value[id];
      if (m) m.name = name.trim();
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  /** Moves a dataset into the workspace's trash; the path it went to, or throws with the reason. */
  async function remove(id: string): Promise<string> {
    const { trashedTo } = await getApi().deleteDataset({ id });
    list.value = list.value.filter((d) => d.id !== id);
    delete manifests.value[id];
    if (selectedId.value === id) selectedId.value = null;
    return trashedTo;
  }

  return {
    rename,
    remove,
    idFor,
    list,
    loaded,
    manifests,
    manifestErrors,
    selectedId,
    error,
    load,
    manifest,
    start,
    stop,
    select,
    sampleImages,
    forgetImages,
    markEdited,
    chooseFolder,
    startImport,
    ensureDemo
  };
});
