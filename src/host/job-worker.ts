/*
 * Entry of a job process (bundled to out/worker/job.cjs): runs one long engine job — an experiment,
 * an import, the demo data, a timing calibration — and reports progress, events and the result to
 * the host. Heavy work lives here, never in Electron's main process or the server's event loop; an
 * out-of-memory crash ends this process only. Works under child_process.fork and utilityProcess.
 */
import { initBackend } from '../engine/tf/backend';
import { initBackendFor } from '../engine/tf/device';
import { runExperiment, readConfig } from '../engine/experiment/runner';
import { ExperimentPaths } from '../engine/experiment/paths';
import { inProcessExecutor } from '../engine/experiment/quantify-executor';
import { writeReport } from '../engine/report/html';
import { importDataset, ensureDemoDatasets } from '../engine/data';
import { calibrate } from '../engine/estimate';
import { probeSource } from '../engine/experiment/probe';
import { probeOnnxSource } from '../engine/onnx/onnx-arch-probe';
import { calibrateOnnxRun } from '../engine/onnx/onnx-arch-estimate';
import { isOnnxRunConfig } from '../common/config';
import { poolExecutor } from './quantify-pool';
import { nodeSpawner, workerEntry } from './spawn';
import type { FromJob, ToJob, JobSpec } from './process-messages';
import { parentChannel } from './parent';
import { computeWindowExecutor, listenForComputePort } from './compute-port';
import { readClusterSettings } from './cluster/cluster-api';
import { clusterExecutor, connectCluster } from './cluster/coordinator';
import type { ClusterProgress } from '../common/cluster';
import { clusterSeedTrainer } from './cluster/seed-coordinator';
import type { SeedTrainer } from '../engine/experiment/runner';
import { appendEvent } from '../engine/experiment/record';

const parent = parentChannel<ToJob, FromJob>();
const send = parent.send;

const controller = new AbortController();
let started = false;
listenForComputePort();

async function run(spec: JobSpec): Promise<unknown> {
  if (spec.kind === 'experiment') {
    const paths = new ExperimentPaths(spec.workspace, spec.experimentId);
    const config = await readConfig(paths);
    const onPage = await computeWindowExecutor(config.backend);
    if (onPage.line) send({ type: 'log', line: onPage.line });
    // With the compute window in use, this process only reads, writes and sums: webgpu (Dawn) cannot load here.
    const device = config.device === 'cpu' ? null : config.device;
    const backend = onPage.trainer
      ? await initBackend(undefined, { gpu: false })
      : await initBackendFor({ backend: config.backend, device, origin: "the run's device" });
    send({
      type: 'backend',
      name: onPage.trainer ? 'webgpu' : backend.name,
      reason: onPage.trainer
        ? `${onPage.line.replace(/^[^:]*: /, '')} (compute window; the job process uses ${backend.name})`
        : backend.reason
    });
    let executor = inProcessExecutor;
    let trainSeeds: SeedTrainer | undefined;
    const cluster = await readClusterSettings(spec.workspace);
    if (cluster.enabled) {
      // The app's cluster settings: seeds and quantification go to the cluster's workers.
      const coordinator = {
        ...(await connectCluster(cluster)),
        experimentId: spec.experimentId,
        config,
        log: (level: 'info' | 'warn', message: string) => {
          const event = { type: 'log' as const, level, message };
          send({ type: 'experiment-event', event });
          if (level === 'warn') void appendEvent(paths, event).catch(() => undefined);
        },
        // The run monitor's cluster line: jobs done, running, queued, failed and the workers on them.
        onProgress: (p: ClusterProgress) => send({ type: 'experiment-event', event: { type: 'cluster', ...p } })
      };
      executor = clusterExecutor(coordinator);
      trainSeeds = clusterSeedTrainer(coordinator);
      // The compute window runs TF.js layers models only; a study's ONNX checkpoints stay in the job's processes.
    } else if (onPage.executor && !config.study) executor = onPage.executor;
    else if (config.workers > 1) {
      try {
        executor = poolExecutor(config.workers, nodeSpawner(workerEntry()));
      } catch (err) {
        send({ type: 'log', line: `warning: ${(err as Error).message}; quantifying in the job process` });
      }
    }
    const metrics = await runExperiment(spec.workspace, spec.experimentId, {
      executor,
      trainSeeds,
      trainer: onPage.trainer ?? undefined,
      backendName: onPage.trainer ? 'webgpu' : undefined,
      signal: controller.signal,
      force: spec.force,
      onEvent: (event) => send({ type: 'experiment-event', event }),
      writeReport: async (ws, id) => {
        await writeReport(ws, id);
      }
    });
    return {
      experimentId: spec.experimentId,
      verdicts: Object.fromEntries(Object.entries(metrics.verdicts).map(([h, v]) => [h, v.result]))
    };
  }
  if (spec.kind === 'import') {
    const summary = await importDataset({ workspace: spec.workspace, ...spec.options }, (done, total, text) =>
      send({ type: 'progress', stage: 'import', fraction: total ? done / total : 0, text, etaSeconds: null })
    );
    for (const s of summary.skipped) send({ type: 'log', line: `${s.file}: ${s.reason}` });
    return summary;
  }
  if (spec.kind === 'demo-data') {
    const { source, target } = await ensureDemoDatasets(spec.workspace, {}, (done, total, text) =>
      send({ type: 'progress', stage: 'demo data', fraction: total ? done / total : 0, text, etaSeconds: null })
    );
    return { source: source.id, target: target.id, samples: source.samples.length + target.samples.length };
  }
  if (spec.kind === 'source-probe') {
    const backend = await initBackendFor({ backend: spec.config.backend, device: null, origin: 'the probe' });
    send({ type: 'backend', name: backend.name, reason: backend.reason });
    return isOnnxRunConfig(spec.config)
      ? probeOnnxSource(spec.workspace, spec.config, { signal: controller.signal })
      : probeSource(spec.workspace, spec.config, { signal: controller.signal });
  }
  if (spec.kind === 'calibrate-onnx') return calibrateOnnxRun(spec.workspace, spec.config);
  if (spec.kind === 'probe') {
    const backend = await initBackend();
    send({ type: 'backend', name: backend.name, reason: backend.reason });
    return backend;
  }
  const backend = await initBackend(spec.backend ?? undefined);
  send({ type: 'backend', name: backend.name, reason: backend.reason });
  return calibrate(spec.request);
}

function onMessage(m: ToJob): void {
  if (m.type === 'cancel') {
    controller.abort();
    return;
  }
  if (m.type === 'compute-port') return; // taken by listenForComputePort
  if (started) return;
  started = true;
  run(m.spec).then(
    (result) => {
      send({ type: 'done', result });
      setTimeout(() => process.exit(0), 50);
    },
    (err: unknown) => {
      send({
        type: 'failed',
        message: err instanceof Error ? err.message : String(err),
        cancelled: controller.signal.aborted
      });
      setTimeout(() => process.exit(1), 50);
    }
  );
}

parent.listen(onMessage);
process.on('disconnect', () => {
  controller.abort();
  setTimeout(() => process.exit(0), 2000).unref();
});
