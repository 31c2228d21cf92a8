/*
 * The runs table's state: every run's row (listRuns, reloaded on 'experiments-changed'), the sort,
 * whether seed groups are collapsed, the selected runs (for the config diff and the curves side by
 * side, whose details come from the experiments store), and the edits: tags and note, delete to
 * the workspace trash.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { RunRow } from '../../../common/api';
import { errorMessage, getApi } from '../api';
import { sortRuns, type RunColumn } from '../results/runs';

export const useRunsStore = defineStore('runs', () => {
  const rows = ref<RunRow[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);
  const sortKey = ref<RunColumn>('createdAt');
  const descending = ref(true);
  const grouped = ref(false);
  const selected = ref<string[]>([]);
  let unsubscribe: (() => void) | null = null;

  const sorted = computed(() => sortRuns(rows.value, sortKey.value, descending.value));

  async function load(): Promise<void> {
    try {
      rows.value = await getApi().listRuns();
      selected.value = selected.value.filter((id) => rows.value.some((r) => r.summary.id === id));
      loaded.value = true;
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  async function start(): Promise<void> {
    if (!unsubscribe) unsubscribe = getApi().on('experiments-changed', () => void load());
    await load();
  }

  function stop(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  function sortBy(key: RunColumn): void {
    if (sortKey.value === key) descending.value = !descending.value;
    else {
      sortKey.value = key;
      descending.value = key !== 'name';
    }
  }

  function toggle(id: string): void {
    selected.value = selected.value.includes(id) ? selected.value.filter((x) => x !== id) : [...selected.value, id];
  }

  async function setNotes(id: string, tags: string[], note: string): Promise<void> {
    try {
      const saved = await getApi().setRunNotes({ experimentId: id, tags, note });
      const r = rows.value.find((x) => x.summary.id === id);
      if (r) Object.assign(r, saved);
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  /** Moves a run into the workspace's trash; the path, or null (the reason is in `error`). */
  async function remove(id: string): Promise<string | null> {
    try {
      const { trashedTo } = await getApi().deleteExperiment({ experimentId: id });
      rows.value = rows.value.filter((r) => r.summary.id !== id);
      selected.value = selected.value.filter((x) => x !== id);
      error.value = null;
      return trashedTo;
    } catch (err) {
      error.value = errorMessage(err);
      return null;
    }
  }

  return {
    rows,
    loaded,
    error,
    sortKey,
    descending,
    grouped,
    selected,
    sorted,
    load,
    start,
    stop,
    sortBy,
    toggle,
    setNotes,
    remove
  };
});
