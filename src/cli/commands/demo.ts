/*
 * `kd-lens demo [--quick] [--workspace DIR] [--json]`: generates the bundled demo datasets if
 * needed and runs the demo configuration (digits on clutter; teacher pretrained on clean digits).
 */
import type { Command } from '../command';
import { resolveWorkspace } from '../../engine/store/workspace';
import { ensureDemoDatasets } from '../../engine/data';
import { createExperiment } from '../../engine/experiment/runner';
import { demoConfig, mergeConfig } from '../../common/defaults';
import { progressBar } from '../progress';
import { runWithTerminal, engineOverrides } from '../run-experiment';
import { CLUSTER_FLAGS, clusterSettings, connectCluster } from '../cluster-flags';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the whole protocol on the bundled demo dataset (15 min; --quick about 3)',
  usage: 'kd-lens demo [--quick] [--workspace DIR] [--seeds N] [--redis URL --store URL] [--json]',
  flags: {
    quick: { type: 'boolean', help: 'a smaller run (fewer epochs, images and samples)' },
    workspace: { type: 'string', value: 'DIR', help: 'workspace folder (default: per-user; env KD_LENS_WORKSPACE)' },
    seeds: { type: 'integer', value: 'N', help: 'repeat student and baseline over N seeds' },
    workers: { type: 'integer', value: 'N', help: 'quantification worker processes (default 2)' },
    engine: {
      type: 'string',
      value: 'auto|onnx|tfjs',
      help: "quantification engine of a new experiment (default: the configuration's, auto)"
    },
    'train-engine': {
      type: 'string',
      value: 'auto|onnx|tfjs',
      help: 'training engine of a new experiment (default auto: ONNX Runtime, else TF.js with the reason)'
    },
    device: {
      type: 'string',
      value: 'cpu|gpu|auto',
      help: 'device: ONNX Runtime provider and TF.js backend (gpu: webgpu; auto: GPU, else CPU)'
    },
    backend: { type: 'string', value: 'auto|webgpu|wasm|tensorflow|cpu', help: 'compute backend' },
    json: { type: 'boolean', help: 'print one JSON object with the results' },
    ...CLUSTER_FLAGS
  },
  async run({ flags }) {
    const workspace = resolveWorkspace(flags.workspace as string | undefined);
    const json = Boolean(flags.json);
    const settings = clusterSettings(flags);
    const cluster = settings ? await connectCluster(settings) : null;
    const bar = progressBar('demo data', { quiet: json });
    await ensureDemoDatasets(workspace, {}, (done, total, text) => bar.update(done / total, text));
    bar.done('ready');
    const overrides: Record<string, unknown> = {};
    if (flags.seeds !== undefined) overrides.seeds = flags.seeds;
    if (flags.workers !== undefined) overrides.workers = flags.workers;
    Object.assign(overrides, engineOverrides(flags));
    const id = await createExperiment(
      workspace,
      mergeConfig(demoConfig(Boolean(flags.quick)), overrides),
      'demo configuration'
    );
    return runWithTerminal(workspace, id, {
      json,
      backend: flags.backend as string | undefined,
      device: flags.device,
      cluster
    });
  }
};
