/*
 * `kd-lens run` on a user's own dataset: like the Experiment form, 3 seeds by default when this
 * machine's estimate for 3 seeds is at most 15 minutes (common/defaults.ts withDefaultSeeds); a
 * configuration file that names `seeds` keeps its own. The estimate is the form's: calibrated on the
 * engine that will run and refined by the workspace's finished runs.
 */
import { cpus } from 'node:os';
import type { RunConfig } from '../common/config';
import { withDefaultSeeds } from '../common/defaults';
import { loadDataset } from '../engine/data/store';
import { calibrate, calibrationRequest } from '../engine/estimate';
import { refinedEstimate } from '../host/estimate-runs';
import { initBackend } from '../engine/tf/backend';

export async function cliDefaultSeeds(
  workspace: string,
  config: RunConfig,
  say: (s: string) => void
): Promise<RunConfig> {
  const target = await loadDataset(workspace, config.dataset);
  const source = config.teacher.source ? await loadDataset(workspace, config.teacher.source).catch(() => null) : null;
  await initBackend(config.backend ?? undefined);
  const cal = await calibrate(calibrationRequest(config, target.classes.length));
  const counts = {
    targetTrain: target.samples.filter((s) => s.split === 'train').length,
    sourceTrain: source ? source.samples.filter((s) => s.split === 'train').length : 0
  };
  const seconds = async (c: RunConfig): Promise<number> =>
    (await refinedEstimate({ workspace, config: c, counts, cal, cpus: cpus().length })).seconds;
  const chosen = await withDefaultSeeds(config, seconds);
  say(
    `seeds: ${chosen.seeds} (estimate for 3 seeds: ${((await seconds({ ...config, seeds: 3 })) / 60).toFixed(0)} min on this machine; 3 when it is at most 15 min; set "seeds" to choose)`
  );
  return chosen;
}
