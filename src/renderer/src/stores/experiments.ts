/*
 * Experiments: the list, and the detail of each opened run kept live from 'experiment' events
 * (training points from 'epoch', concept points from 'concepts', stage states from 'stage'), so
 * the curves fill in while a run goes on. Events that arrive while a detail is loading are held
 * and replayed after it (replay is idempotent: a point replaces the one with the same key).
 * The cluster's progress on a run ('cluster' events) is kept per run, loaded detail or not.
 * Launching and resuming runs live here too; the configuration form is experiment-form.ts.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { EpochPoint, ExperimentDetail, ExperimentSummary } from '../../../common/api';
import type { LaunchConfig } from '../experiment/onnx-teacher';
import type { CheckpointConceptsEvent, ClusterProgressEvent, ExperimentEvent } from '../../../common/events';
import { errorMessage, getApi } from '../api';

/** Adds or replaces (same network, stage and epoch) one training point. */
export function addTrainingPoint(points: EpochPoint[], p: EpochPoint): void {
  const k = points.findIndex((q) => q.net === p.net && q.stage === p.stage && q.epoch === p.epoch);
  if (k >= 0) points[k] = p;
  else points.push(p);
}

/** Adds or replaces (same network and epoch) one checkpoint's concept counts. */
export function addConceptPoint(points: CheckpointConceptsEvent[], p: CheckpointConceptsEvent): void {
  const k = points.findIndex((q) => q.net === p.net && q.epoch === p.epoch);
  if (k >= 0) points[k] = p;
  else points.push(p);
}

/** Applies one live event to a run's detail. */
export function applyEvent(detail: ExperimentDetail, event: ExperimentEvent): void {
  if (event.type === 'epoch') {
    const { net, stage, epoch, loss, accuracy, valLoss, valAccuracy, pathLength } = event;
    addTrainingPoint(detail.training, { net, stage, epoch, loss, accuracy, valLoss, valAccuracy, pathLength });
  } else if (event.type === 'concepts') {
    addConceptPoint(detail.concepts, event);
  } else if (event.type === 'stage') {
    const { status, seconds, message } = event;
    // A stage's engine is known when it ends; a running or resumed stage keeps the one recorded before.
    const engine = event.engine ?? detail.stages[event.stage]?.engine;
    detail.stages[event.stage] = { status, seconds, message, ...(engine ? { engine } : {}) };
  }
}

export const useExperimentsStore = defineStore('experiments', () => {
  const list = ref<ExperimentSummary[]>([]);
  const details = ref<Record<string, ExperimentDetail>>({});
  const detailErrors = ref<Record<string, string>>({});
  /** The run the Experiment view follows. */
  const watchedId = ref<string | null>(null);
  const error = ref<string | null>(null);
  const launching = ref(false);
  /** The last 'cluster' event of each run quantified on the cluster in this session. */
  const cluster = ref<Record<string, ClusterProgressEvent>>({});
  /** Per run, one buffer per load in flight. */
  const held = new Map<string, Set<ExperimentEvent[]>>();
  let unsubscribe: (() => void)[] = [];

  async function load(): Promise<void> {
    try {
      list.value = await getApi().listExperiments();
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  /** Loads (or reloads) a run's detail, then replays the events that came meanwhile. */
  async function open(experimentId: string): Promise<ExperimentDetail | null> {
    const buffer: ExperimentEvent[] = [];
    const buffers = held.get(experimentId) ?? new Set<ExperimentEvent[]>();
    held.set(experimentId, buffers.add(buffer));
    try {
      const detail = await getApi().getExperiment({ experimentId });
      for (const e of buffer) applyEvent(detail, e);
      details.value[experimentId] = detail;
      delete detailErrors.value[experimentId];
      return details.value[experimentId];
    } catch (err) {
      detailErrors.value[experimentId] = errorMessage(err);
      return null;
    } finally {
      buffers.delete(buffer);
      if (buffers.size === 0) held.delete(experimentId);
    }
  }

  function onEvent(experimentId: string, event: ExperimentEvent): void {
    if (event.type === 'cluster') cluster.value[experimentId] = event;
    for (const buffer of held.get(experimentId) ?? []) buffer.push(event);
    const detail = details.value[experimentId];
    if (detail) applyEvent(detail, event);
  }

  async function start(): Promise<void> {
    if (unsubscribe.length === 0) {
      const api = getApi();
      unsubscribe = [
        api.on('experiment', (e) => {
          if (e.type === 'experiment') onEvent(e.experimentId, e.event);
        }),
        api.on('experiments-changed', () => {
          void load();
          for (const id of Object.keys(details.value)) void open(id);
        })
      ];
    }
    await load();
  }

  function stop(): void {
    for (const u of unsubscribe) u();
    unsubscribe = [];
  }

  /** Starts a run; its id (now watched), or null with the reason in `error`. */
  async function launch(config: LaunchConfig): Promise<string | null> {
    launching.value = true;
    try {
      // An ONNX architecture's configuration (onnx-teacher.ts) is sent as the contract; the host's schema judges it.
      const { experimentId } = await getApi().startExperiment({ config });
      error.value = null;
      watchedId.value = experimentId;
      await Promise.all([open(experimentId), load()]);
      return experimentId;
    } catch (err) {
      error.value = errorMessage(err);
      return null;
    } finally {
      launching.value = false;
    }
  }

  async function watch(experimentId: string): Promise<void> {
    watchedId.value = experimentId;
    await open(experimentId);
  }

  return {
    list,
    details,
    detailErrors,
    watchedId,
    error,
    launching,
    cluster,
    load,
    open,
    onEvent,
    start,
    stop,
    launch,
    watch
  };
});
