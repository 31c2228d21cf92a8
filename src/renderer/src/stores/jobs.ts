/*
 * Mirror of the host's jobs: listJobs() once, then every 'job' event (the host throttles
 * progress to about ten a second). A finished job never goes back to running (a late progress
 * event after 'done' is dropped); resuming an experiment is a new job. Also cancel and resume.
 * It does not interpret what a job produced: views and other stores watch it. Finished jobs can be
 * cleared from the panel (remembered in this browser; the host keeps its own list).
 */
import { defineStore } from 'pinia';
import { computed, ref, watch } from 'vue';
import type { JobInfo, JobStatus } from '../../../common/api';
import { errorMessage, getApi } from '../api';

export const FINISHED: readonly JobStatus[] = ['done', 'failed', 'cancelled'];
export const isFinished = (status: JobStatus): boolean => FINISHED.includes(status);

const CLEARED_KEY = 'kd-lens-jobs-cleared';

function readCleared(): string[] {
  try {
    const v: unknown = JSON.parse(window.localStorage.getItem(CLEARED_KEY) ?? '[]');
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export const useJobsStore = defineStore('jobs', () => {
  const byId = ref<Record<string, JobInfo>>({});
  const cleared = ref<Set<string>>(new Set(readCleared()));
  const error = ref<string | null>(null);
  let unsubscribe: (() => void)[] = [];

  /** Newest first. */
  const all = computed(() =>
    Object.values(byId.value).sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.id.localeCompare(a.id))
  );
  const active = computed(() => all.value.filter((j) => !isFinished(j.status)));
  /** What the panel lists: every job except finished ones the user cleared. */
  const visible = computed(() => all.value.filter((j) => !cleared.value.has(j.id)));
  const finishedShown = computed(() => visible.value.filter((j) => isFinished(j.status)).length);

  /** Hides every finished job from the panel (running ones stay). */
  function clearFinished(): void {
    const next = new Set(cleared.value);
    for (const j of all.value) if (isFinished(j.status)) next.add(j.id);
    // Only ids the host still knows are worth remembering.
    for (const id of [...next]) if (!byId.value[id]) next.delete(id);
    cleared.value = next;
    try {
      window.localStorage.setItem(CLEARED_KEY, JSON.stringify([...next]));
    } catch {
      // storage disabled: cleared for this session
    }
  }

  function upsert(job: JobInfo): void {
    const old = byId.value[job.id];
    if (old && isFinished(old.status) && !isFinished(job.status)) return;
    byId.value[job.id] = job;
  }

  async function load(): Promise<void> {
    try {
      const jobs = await getApi().listJobs();
      for (const j of jobs) upsert(j);
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  /** Subscribes to job events (once) and loads the list. */
  async function start(): Promise<void> {
    if (unsubscribe.length === 0) {
      const api = getApi();
      unsubscribe = [
        api.on('job', (e) => {
          if (e.type === 'job') upsert(e.job);
        }),
        // after a reconnect the server sends these; jobs may have moved meanwhile
        api.on('experiments-changed', () => void load()),
        api.on('datasets-changed', () => void load())
      ];
    }
    await load();
  }

  function stop(): void {
    for (const u of unsubscribe) u();
    unsubscribe = [];
  }

  /** The newest job of an experiment. */
  function latestForExperiment(experimentId: string): JobInfo | null {
    return all.value.find((j) => j.experimentId === experimentId) ?? null;
  }

  /** Whether a finished experiment job can be resumed (cancelled or failed, and nothing newer runs). */
  function canResume(job: JobInfo): boolean {
    if (job.kind !== 'experiment' || !job.experimentId || !(job.status === 'cancelled' || job.status === 'failed'))
      return false;
    return latestForExperiment(job.experimentId)?.id === job.id;
  }

  async function cancel(jobId: string): Promise<void> {
    try {
      await getApi().cancelJob({ jobId });
      error.value = null;
    } catch (err) {
      error.value = errorMessage(err);
    }
  }

  /** Resumes an experiment (force: past the checks that stopped it); the new job's id, or null (the error is in `error`). */
  async function resume(experimentId: string, force = false): Promise<string | null> {
    try {
      const { jobId } = await getApi().resumeExperiment(force ? { experimentId, force } : { experimentId });
      error.value = null;
      return jobId;
    } catch (err) {
      error.value = errorMessage(err);
      return null;
    }
  }

  /** Resolves with the job once it has finished (done, failed or cancelled). */
  function whenFinished(jobId: string): Promise<JobInfo> {
    return new Promise((resolve) => {
      const stop = watch(
        () => byId.value[jobId]?.status,
        (status) => {
          if (!status || !isFinished(status)) return;
          queueMicrotask(() => stop());
          resolve(byId.value[jobId]);
        },
        { immediate: true }
      );
    });
  }

  return {
    byId,
    all,
    active,
    visible,
    finishedShown,
    clearFinished,
    error,
    upsert,
    whenFinished,
    load,
    start,
    stop,
    latestForExperiment,
    canResume,
    cancel,
    resume
  };
});
