/*
 * `kd-lens analyse STUDY.json|DIR [--workspace DIR] [--resume EXP_ID] [--redis URL --store URL] [--json]`:
 * networks trained elsewhere through the lens; with --redis/--store the quantification runs on the
 * cluster's workers (one job per network, checkpoint and image shard), checked before anything is written.
 */
import type { Command } from '../command';
import { UsageError } from '../args';
import { resolveWorkspace } from '../../engine/store/workspace';
import { createStudyExperiment } from '../../engine/study/analyse';
import { estimateStudy } from '../../engine/study/estimate';
import { CHECKPOINT_PATH_LENGTH_NOTE } from '../../common/study-source';
import { formatDuration } from '../progress';
import { runWithTerminal } from '../run-experiment';
import { CLUSTER_FLAGS, clusterSettings, connectCluster } from '../cluster-flags';

export const analyseCommand: Command = {
  name: 'analyse',
  summary: 'quantify checkpoint series trained elsewhere (teacher, students, baselines) into an experiment',
  usage: 'kd-lens analyse STUDY.json|DIR [--workspace DIR] [--resume EXP_ID] [--redis URL --store URL] [--json]',
  flags: {
    workspace: { type: 'string', value: 'DIR', help: 'workspace folder (default: per-user; env KD_LENS_WORKSPACE)' },
    resume: { type: 'string', value: 'EXP_ID', help: 'continue a cancelled or crashed study' },
    'no-estimate': { type: 'boolean', help: 'skip the time estimate before the quantification' },
    json: { type: 'boolean', help: 'print one JSON object with the results (as kd-lens run --json)' },
    ...CLUSTER_FLAGS
  },
  async run({ flags, positionals }) {
    const workspace = resolveWorkspace(flags.workspace as string | undefined);
    const json = Boolean(flags.json);
    const say = (s: string): void => {
      if (!json) process.stderr.write(s + '\n');
    };
    // An unreachable Redis or store is named before the experiment folder exists.
    const settings = clusterSettings(flags);
    const cluster = settings ? await connectCluster(settings) : null;
    let id = flags.resume as string | undefined;
    if (id && positionals.length) throw new UsageError('--resume takes the experiment id; leave out the study file');
    if (!id) {
      const file = positionals[0];
      if (!file) throw new UsageError('give a study file (or a folder with study.json), or --resume EXP_ID');
      const created = await createStudyExperiment(workspace, file);
      id = created.id;
      say(`study ${created.resolved.config.name}: ${created.resolved.size} px, ${created.resolved.outputs} classes`);
      for (const n of created.resolved.summary)
        say(
          `  ${n.net.padEnd(5)} ${n.role.padEnd(8)} ${n.name}: epochs ${n.epochs.join(', ')}; ${n.role === 'teacher' ? 'its last checkpoint is analysed' : `path length from ${n.pathLength === 'log' ? 'its log' : 'the checkpoints (approximation)'}`}`
        );
      if (created.resolved.summary.some((n) => n.role !== 'teacher' && n.pathLength === 'checkpoints'))
        say(`  note: ${CHECKPOINT_PATH_LENGTH_NOTE}`);
      if (!flags['no-estimate'] && !json) {
        const est = await estimateStudy(created.resolved.config);
        say(`  estimate: quantification about ${formatDuration(est.seconds)} (${est.basis})`);
      }
    }
    return runWithTerminal(workspace, id, { json, cluster });
  }
};
