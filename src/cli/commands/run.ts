/* `kd-lens run CONFIG.json [--workspace DIR] [--resume EXP_ID] [--json]` */
import type { Command } from '../command';
import { UsageError } from '../args';
import { readJson } from '../../engine/store/atomic';
import { resolveWorkspace } from '../../engine/store/workspace';
import { createExperiment } from '../../engine/experiment/runner';
import { defaultConfig, mergeConfig } from '../../common/defaults';
import { runWithTerminal } from '../run-experiment';
import { cliDefaultSeeds } from '../default-seeds';
import { RunConfigSchema } from '../../common/config';
import { parseWith } from '../../common/schema';

export const runCommand: Command = {
  name: 'run',
  summary: 'run (or resume) an experiment: teacher, student, baseline, quantification, verdicts',
  usage: 'kd-lens run CONFIG.json [--workspace DIR] [--resume EXP_ID] [--json]',
  flags: {
    workspace: { type: 'string', value: 'DIR', help: 'workspace folder (default: per-user; env KD_LENS_WORKSPACE)' },
    resume: { type: 'string', value: 'EXP_ID', help: 'continue a cancelled or crashed experiment' },
    backend: { type: 'string', value: 'wasm|tensorflow|cpu', help: "override the configuration's backend" },
    json: { type: 'boolean', help: 'print one JSON object with the results' }
  },
  async run({ flags, positionals }) {
    const workspace = resolveWorkspace(flags.workspace as string | undefined);
    let id = flags.resume as string | undefined;
    if (!id) {
      const file = positionals[0];
      if (!file) throw new UsageError('give a configuration file, or --resume EXP_ID');
      const partial = (await readJson(file)) as Record<string, unknown>;
      if (typeof partial !== 'object' || partial === null || typeof partial.dataset !== 'string') throw new Error(`${file}: field dataset: required (the id of a dataset in the workspace)`);
      const merged = parseWith(RunConfigSchema, mergeConfig(defaultConfig(partial.dataset), partial), file);
      const config = 'seeds' in partial ? merged : await cliDefaultSeeds(workspace, merged, (s) => (flags.json ? undefined : process.stderr.write(s + '\n')));
      id = await createExperiment(workspace, config, file);
    } else if (positionals.length) {
      throw new UsageError('--resume takes the experiment id; leave out the configuration file');
    }
    return runWithTerminal(workspace, id, Boolean(flags.json), flags.backend as string | undefined);
  }
};
