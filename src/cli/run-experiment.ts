/* Shared by `kd-lens run` and `kd-lens demo`: run or resume one experiment with terminal output. */
import { UsageError } from './args';
import { initBackendFor } from '../engine/tf/device';
import { runExperiment, readConfig } from '../engine/experiment/runner';
import { readState } from '../engine/experiment/record';
import { whatRan, type WhatRan } from '../common/record-schemas';
import { ExperimentPaths } from '../engine/experiment/paths';
import { inProcessExecutor } from '../engine/experiment/quantify-executor';
import { writeReport } from '../engine/report/html';
import { poolExecutor } from '../host/quantify-pool';
import { workerEntry } from '../host/spawn';
import { terminalListener, formatResults, resultsJson } from './experiment-view';
import { cpus } from 'node:os';
import { formatDuration } from './progress';
import { parseEngine } from './commands/quantify';
import { parseDevice } from '../engine/onnx/runtime';
import { clusterExecutor, type ClusterTarget } from '../host/cluster/coordinator';
import { describeRedis } from '../host/cluster/redis';
import { clusterSeedTrainer } from '../host/cluster/seed-coordinator';
import type { SeedTrainer } from '../engine/experiment/runner';
import { appendEvent } from '../engine/experiment/record';
import type { ExperimentEvent } from '../common/events';
import type { ClusterProgress } from '../common/cluster';

/** Run-configuration fields from --engine and --device (validated). */
export function engineOverrides(flags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (flags.engine !== undefined) out.engine = parseEngine(flags.engine as string);
  if (flags.device !== undefined) out.device = parseDevice(flags.device as string, '--device');
  if (flags['train-engine'] !== undefined) {
    const v = flags['train-engine'] as string;
    if (!['auto', 'onnx', 'tfjs'].includes(v))
      throw new UsageError(`--train-engine: expected auto, onnx or tfjs, got '${v}'`);
    out.trainEngine = v;
  }
  return out;
}
import { launchWarnings } from '../common/launch-warnings';
import { probeSource } from '../engine/experiment/probe';
import { probeOnnxSource } from '../engine/onnx/onnx-arch-probe';
import { onnxFormOf } from '../engine/onnx/onnx-arch-networks';

/** The TF.js side of the device: --device when given, else the configuration's gpu or auto (its cpu default leaves the default order). */
export function deviceForBackend(
  config: { device: 'cpu' | 'gpu' | 'auto' },
  deviceFlag: unknown
): { device: 'cpu' | 'gpu' | 'auto' | null; origin: string } {
  if (deviceFlag !== undefined) return { device: parseDevice(deviceFlag as string, '--device'), origin: '--device' };
  return { device: config.device === 'cpu' ? null : config.device, origin: "the configuration's device" };
}

function formatWhatRan(ran: WhatRan): string {
  const engines = ran.quantification.map((q) => `${q.engine} (${q.tasks} task${q.tasks === 1 ? '' : 's'})`);
  const training = ran.training.map((t) => `${t.engine} (${t.stages.join(', ')})`);
  return `backend ${ran.backend ?? 'unknown'}; quantification ran on ${engines.length ? engines.join(', ') : 'no engine recorded'}${training.length ? `; training ran on ${training.join('; ')}` : ''}`;
}

/** How runWithTerminal runs: --json, --backend, --device, and --force (continue past an early stop's checks). */
export interface TerminalRunOptions {
  json: boolean;
  backend?: string;
  device?: unknown;
  force?: boolean;
  /** Before a new run whose teacher has a source set or pretrained weights: the pre-launch probe (probe.ts). */
  probe?: boolean;
  /** Seeds and quantification on the cluster (--redis/--store or the configuration's cluster section). */
  cluster?: ClusterTarget | null;
}

export async function runWithTerminal(workspace: string, id: string, options: TerminalRunOptions): Promise<number> {
  const { json, backend: backendFlag, device: deviceFlag, cluster } = options;
  const paths = new ExperimentPaths(workspace, id);
  const config = await readConfig(paths);
  const backend = await initBackendFor({
    backend: backendFlag ?? config.backend,
    ...deviceForBackend(config, deviceFlag)
  });
  const say = (s: string): void => {
    if (!json) process.stderr.write(s + '\n');
  };
  say(
    `experiment ${id}\n  folder ${paths.root}\n  backend: ${backend.reason}\n  quantification engine: ${config.engine}${config.engine === 'tfjs' ? '' : ` (device ${config.device})`}; each stage logs what ran`
  );
  // A study trained nothing here: the warnings about training settings do not apply.
  for (const w of config.study ? [] : launchWarnings(config, { cpus: cpus().length }))
    say(`  warning (${w.check}): ${w.message}`);
  // An ONNX architecture is probed on its own stages (onnx-arch-probe.ts); another study trained nothing here.
  const onnx = config.onnxRun ? onnxFormOf(config) : null;
  const probed = onnx ?? (config.study ? null : config);
  if (options.probe && probed && (probed.teacher.source || probed.teacher.pretrained)) {
    const onProgress = (t: string): void => say(`  ${t}`);
    const probe = onnx
      ? await probeOnnxSource(workspace, onnx, { onProgress })
      : await probeSource(workspace, config, { onProgress });
    say(`  ${probe.helps ? '' : 'warning: '}${probe.message} (${probe.seconds.toFixed(0)} s)`);
  }
  let executor = inProcessExecutor;
  let trainSeeds: SeedTrainer | undefined;
  const onEvent = terminalListener(json);
  if (cluster) {
    say(
      `  seeds and quantification on the cluster: Redis ${describeRedis(cluster.redis)}, store ${cluster.store.description}`
    );
    const coordinator = {
      ...cluster,
      experimentId: id,
      config,
      log: (level: 'info' | 'warn', message: string) => {
        const e: ExperimentEvent = { type: 'log', level, message };
        onEvent(e);
        if (level === 'warn') void appendEvent(paths, e).catch(() => undefined);
      },
      onProgress: (p: ClusterProgress) => onEvent({ type: 'cluster', ...p })
    };
    executor = clusterExecutor(coordinator);
    trainSeeds = clusterSeedTrainer(coordinator);
  } else if (config.workers > 1) {
    try {
      workerEntry();
      executor = poolExecutor(config.workers);
    } catch (err) {
      say(`warning: ${(err as Error).message}; quantifying in this process instead`);
    }
  }
  const controller = new AbortController();
  const onSignal = (): void => {
    say(`\ncancelling… (resume later with: kd-lens run --resume ${id}${workspace ? ` --workspace ${workspace}` : ''})`);
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const t0 = Date.now();
  try {
    const metrics = await runExperiment(workspace, id, {
      executor,
      onEvent,
      trainSeeds,
      signal: controller.signal,
      force: options.force,
      writeReport: async (ws, expId) => {
        await writeReport(ws, expId);
      }
    });
    const seconds = (Date.now() - t0) / 1000;
    const ran = whatRan(await readState(paths));
    if (json) process.stdout.write(JSON.stringify(resultsJson(metrics, { report: paths.report, seconds, ran })) + '\n');
    else
      process.stdout.write(
        `\n${formatResults(metrics)}\n${formatWhatRan(ran)}\nfinished in ${formatDuration(seconds)}; report: ${paths.report}\n`
      );
    return 0;
  } catch (err) {
    if (controller.signal.aborted) {
      process.stderr.write(`cancelled; resume with: kd-lens run --resume ${id} --workspace ${workspace}\n`);
      return 130;
    }
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
