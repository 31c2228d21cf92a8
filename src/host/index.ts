/*
 * The host: one JobManager, the KdApi service and an event bus, shared by the Electron main process
 * and the HTTP server. It spawns job processes through the spawner it is given (utilityProcess in
 * Electron, child_process under Node) and never computes anything heavy itself.
 */
import type { BackendInfo, KdEvent, KdEventType, SourceProbe } from '../common/api';
import type { AnyRunConfig, OnnxRunConfig, RunConfig } from '../common/config';
import { calibrationRequest, type Calibration } from '../engine/estimate';
import type { OnnxCalibrationResult } from '../engine/onnx/onnx-arch-estimate';
import { RequestError } from '../common/errors';
import { JobManager } from './jobs';
import { createService, type KdService } from './service';
import type { SpawnJob, FromJob } from './process-messages';

export interface HostOptions {
  workspace: string;
  shell: 'electron' | 'browser';
  version: string;
  spawnJob: SpawnJob;
  pickFolder?: () => Promise<string | null>;
}

export interface Host {
  service: KdService;
  jobs: JobManager;
  /** Subscribes to every pushed event; returns an unsubscribe function. */
  subscribe(listener: (e: KdEvent) => void, types?: KdEventType[]): () => void;
  /** Resolves once the backend probe answered (or failed). */
  ready: Promise<BackendInfo>;
  shutdown(): Promise<void>;
}

/** Runs a short-lived job process outside the job list (backend probe, calibration). */
function oneShot<T>(
  spawn: SpawnJob,
  spec: Parameters<ReturnType<SpawnJob>['send']>[0],
  onBackend?: (b: BackendInfo) => void
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn();
    let settled = false;
    child.onMessage((m: FromJob) => {
      if (m.type === 'backend') onBackend?.({ name: m.name, reason: m.reason });
      else if (m.type === 'done') {
        settled = true;
        resolve(m.result as T);
      } else if (m.type === 'failed') {
        settled = true;
        reject(new Error(m.message));
      }
    });
    child.onExit((code) => {
      if (!settled) reject(new Error(`the engine process ended unexpectedly (exit code ${code})`));
    });
    child.send(spec);
  });
}

export function createHost(o: HostOptions): Host {
  const listeners = new Set<{ fn: (e: KdEvent) => void; types?: KdEventType[] }>();
  const emit = (e: KdEvent): void => {
    for (const l of listeners) if (!l.types || l.types.includes(e.type)) l.fn(e);
  };
  let backend: BackendInfo = { name: 'starting', reason: 'probing the compute backends…' };
  const learn = (b: BackendInfo): void => {
    backend = b;
  };
  const jobs = new JobManager(o.spawnJob, emit, (info) => {
    if (info.kind === 'experiment') emit({ type: 'experiments-changed' });
  });
  const ready = oneShot<BackendInfo>(o.spawnJob, { type: 'start', spec: { kind: 'probe' } }, learn).then(
    (b) => {
      learn(b);
      return b;
    },
    (err: Error) => {
      learn({ name: 'unavailable', reason: `the engine failed to start: ${err.message}` });
      return backend;
    }
  );
  const calibrate = (config: RunConfig, numClasses: number): Promise<Calibration> =>
    oneShot<Calibration>(
      o.spawnJob,
      {
        type: 'start',
        spec: { kind: 'calibrate', request: calibrationRequest(config, numClasses), backend: config.backend }
      },
      learn
    );
  // The compiler's refusal of the network in the job is the caller's mistake (400 naming the node).
  const calibrateOnnx = (config: OnnxRunConfig): Promise<Calibration> =>
    oneShot<OnnxCalibrationResult>(o.spawnJob, {
      type: 'start',
      spec: { kind: 'calibrate-onnx', workspace: o.workspace, config }
    }).then((r) => {
      if ('refused' in r) throw new RequestError(r.refused);
      return r.calibration;
    });
  const probeSource = (config: AnyRunConfig): Promise<SourceProbe> =>
    oneShot<SourceProbe>(
      o.spawnJob,
      { type: 'start', spec: { kind: 'source-probe', workspace: o.workspace, config } },
      learn
    );
  const service = createService({
    workspace: o.workspace,
    shell: o.shell,
    version: o.version,
    jobs,
    emit,
    pickFolder: o.pickFolder,
    backend: () => backend,
    calibrate,
    calibrateOnnx,
    probeSource
  });
  return {
    service,
    jobs,
    ready,
    subscribe(fn, types) {
      const entry = { fn, types };
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
    shutdown: () => jobs.shutdown()
  };
}
