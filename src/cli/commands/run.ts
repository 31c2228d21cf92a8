/* `kd-lens run CONFIG.json [--workspace DIR] [--resume EXP_ID [--force]] [--json]` */
import type { Command } from '../command';
import { UsageError } from '../args';
import { readJson } from '../../engine/store/atomic';
import { resolveWorkspace } from '../../engine/store/workspace';
import { createExperiment } from '../../engine/experiment/runner';
import { defaultConfig, mergeConfig } from '../../common/defaults';
import { runWithTerminal, engineOverrides } from '../run-experiment';
import { z } from 'zod';
import { CLUSTER_FLAGS, clusterSettings, connectCluster } from '../cluster-flags';

/** A configuration file gives at least the dataset; the rest is merged over the defaults and then parsed whole. */
const PartialConfig = z.looseObject({ dataset: z.string() });
import { cliDefaultSeeds } from '../default-seeds';
import { RunConfigSchema, isOnnxArchitecture } from '../../common/config';
import { createOnnxExperiment } from '../onnx-run';
import { parseWith } from '../../common/schema';

export const runCommand: Command = {
  name: 'run',
  summary: 'run (or resume) an experiment: teacher, student, baseline, quantification, verdicts',
  usage: 'kd-lens run CONFIG.json [--workspace DIR] [--resume EXP_ID [--force]] [--redis URL --store URL] [--json]',
  flags: {
    workspace: { type: 'string', value: 'DIR', help: 'workspace folder (default: per-user; env KD_LENS_WORKSPACE)' },
    resume: { type: 'string', value: 'EXP_ID', help: 'continue a cancelled or crashed experiment' },
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
      help: 'device of a new experiment: ONNX Runtime provider and TF.js backend (gpu: webgpu; auto: GPU, else CPU)'
    },
    backend: { type: 'string', value: 'auto|webgpu|wasm|tensorflow|cpu', help: "override the configuration's backend" },
    json: { type: 'boolean', help: 'print one JSON object with the results' },
    'skip-probe': {
      type: 'boolean',
      help: 'skip the probe that a new run with a source set or pretrained teacher starts with (does the source help? a few epochs each)'
    },
    force: {
      type: 'boolean',
      help: 'with --resume: continue past the protocol checks that stopped the run (checks.stopOnFail)'
    },
    ...CLUSTER_FLAGS
  },
  async run({ flags, positionals }) {
    const workspace = resolveWorkspace(flags.workspace as string | undefined);
    let id = flags.resume as string | undefined;
    let settings = clusterSettings(flags);
    let cluster = settings && !positionals[0] ? await connectCluster(settings) : null;
    if (!id) {
      const file = positionals[0];
      if (!file) throw new UsageError('give a configuration file, or --resume EXP_ID');
      const parsed = PartialConfig.safeParse(await readJson(file));
      if (!parsed.success) throw new Error(`${file}: field dataset: required (the id of a dataset in the workspace)`);
      const { cluster: fromFile, ...partial } = parsed.data;
      // Checked before the experiment folder exists: a cluster that cannot be reached leaves nothing behind.
      settings = clusterSettings(flags, fromFile, file);
      if (settings) cluster = await connectCluster(settings);
      if (isOnnxArchitecture(partial.architecture)) {
        const say = (s: string): void => void (flags.json ? undefined : process.stderr.write(s + '\n'));
        id = await createOnnxExperiment({ workspace, file, partial, flags, say });
        return runWithTerminal(workspace, id, {
          json: Boolean(flags.json),
          backend: flags.backend as string | undefined,
          device: flags.device,
          force: false,
          probe: !flags['skip-probe'],
          cluster: null
        });
      }
      const merged = parseWith(
        RunConfigSchema,
        mergeConfig(mergeConfig(defaultConfig(partial.dataset), partial), engineOverrides(flags)),
        file
      );
      const config =
        'seeds' in partial
          ? merged
          : await cliDefaultSeeds(workspace, merged, (s) => (flags.json ? undefined : process.stderr.write(s + '\n')));
      id = await createExperiment(workspace, config, file);
    } else if (flags.engine !== undefined || flags.device !== undefined || flags['train-engine'] !== undefined) {
      throw new UsageError(
        '--engine, --train-engine and --device apply to a new experiment; a resumed one keeps its configuration'
      );
    } else if (positionals.length) {
      throw new UsageError('--resume takes the experiment id; leave out the configuration file');
    }
    return runWithTerminal(workspace, id, {
      json: Boolean(flags.json),
      backend: flags.backend as string | undefined,
      device: flags.device,
      force: Boolean(flags.force),
      probe: !flags.resume && !flags['skip-probe'],
      cluster
    });
  }
};
