/*
 * metrics.json: everything measured, recomputed from the stored entropy maps and the masks only
 * (so anyone can check it from the .npy files): per network the six numbers, per-checkpoint curves,
 * per-image counts, filter counts, accuracy; the verdicts per seed; mean and std over seeds.
 */
import type { RunConfig } from '../../common/config';
import { SIX, type MetricsDocument, type NetworkSummary } from '../../common/metrics';
import { mean, populationVariance } from '../util/moments';
import type { ExperimentPaths } from './paths';
import { netId } from './paths';
import type { AnalysisSet, NetworkCheckpoints } from './quantify';
import { analyseNetwork, selectImages, type NetworkMetrics, type NetworkMaps, type RemovedImage } from './analysis';
import { verdicts as computeVerdicts, type Verdicts } from './verdicts';
import { readMaps, readPathLength, readTrainLog, readStudyAccuracy } from './record';
import { studyCheckpoints, studyMetrics } from '../study/metrics';

export { SIX };
export type { MetricsDocument, NetworkSummary };
import { protocolChecks, foldChecks, foregroundShares, fileInputs } from './check-inputs';

/** The analysed checkpoints of every network, from the path-length logs written by training. */
export async function networkCheckpoints(config: RunConfig, paths: ExperimentPaths): Promise<NetworkCheckpoints[]> {
  if (config.study) return studyCheckpoints(config.study, paths);
  const out: NetworkCheckpoints[] = [
    {
      net: 'T',
      checkpoints: [
        { key: 'final', epoch: config.teacher.finetune.epochs, modelDir: paths.final('T'), pathLength: null }
      ]
    }
  ];
  for (let r = 0; r < config.seeds; r++) {
    for (const role of ['S', 'B'] as const) {
      const net = netId(role, r);
      const log = await readPathLength(paths, net);
      out.push({
        net,
        checkpoints: log.checkpoints.map((c) => ({
          key: `epoch-${c.epoch}`,
          epoch: c.epoch,
          modelDir: paths.checkpoint(net, c.epoch),
          pathLength: c.pathLength
        }))
      });
    }
  }
  return out;
}

async function finalAccuracy(config: RunConfig, paths: ExperimentPaths, net: string): Promise<number | null> {
  if (config.study) return (await readStudyAccuracy(paths))?.[net]?.accuracy ?? null;
  const logs = await readTrainLog(paths, net);
  const labelled = logs.filter((l) => l.accuracy !== null);
  const last = labelled[labelled.length - 1];
  return last ? (last.valAccuracy ?? last.accuracy) : null;
}

function summarise(m: NetworkMetrics, accuracy: number | null, withDynamics: boolean): NetworkSummary {
  const last = m.perCheckpoint[m.perCheckpoint.length - 1];
  return {
    N_fg: m.N_fg,
    N_bg: m.N_bg,
    ratio: m.ratio,
    D_mean: withDynamics ? m.D_mean : null,
    D_std: withDynamics ? m.D_std : null,
    D_var: withDynamics ? m.D_var : null,
    rho: withDynamics ? m.rho : null,
    images: m.images,
    accuracy,
    conceptFraction: last?.conceptFraction ?? 0
  };
}

/** Computes metrics.json from the stored maps. */
export async function computeMetrics(
  config: RunConfig,
  paths: ExperimentPaths,
  set: Pick<AnalysisSet, 'ids' | 'foreground'>,
  classes: number | null = null
): Promise<MetricsDocument> {
  const options = {
    threshold: config.quantification.threshold,
    backgroundFilter: config.quantification.backgroundFilter
  };
  const networks: Record<string, NetworkMetrics & { accuracy: number | null; removedImages: RemovedImage[] }> = {};
  for (const n of await networkCheckpoints(config, paths)) {
    const maps: NetworkMaps = { net: n.net, checkpoints: [] };
    for (const cp of n.checkpoints) {
      const { entropy } = await readMaps(paths, n.net, cp.key);
      maps.checkpoints.push({ epoch: cp.epoch, pathLength: cp.pathLength, entropy });
    }
    const selection = selectImages(maps, set.foreground, options);
    networks[n.net] = {
      ...analyseNetwork(maps, set.foreground, selection, options),
      removedImages: selection.removedImages,
      accuracy: await finalAccuracy(config, paths, n.net)
    };
  }
  const checks = protocolChecks({
    seeds: config.seeds,
    maskRule: config.quantification.maskRule,
    drawn: set.ids.length,
    networks,
    classes,
    foregroundShares: foregroundShares(set.foreground),
    ...(await fileInputs(config, paths, Object.keys(networks)))
  });
  const verdictsPerSeed: Verdicts[] = [];
  for (let r = 0; r < config.seeds; r++)
    verdictsPerSeed.push(
      foldChecks(
        computeVerdicts(networks[netId('S', r)], networks[netId('B', r)], {
          ...config.verdicts,
          seed: config.seed + r
        }),
        checks
      )
    );
  let seeds: MetricsDocument['seeds'] = null;
  if (config.seeds > 1) {
    const agg = (role: 'S' | 'B'): Record<string, { mean: number | null; std: number | null }> => {
      const out: Record<string, { mean: number | null; std: number | null }> = {};
      for (const key of [...SIX, 'D_var', 'accuracy'] as const) {
        const values = Array.from({ length: config.seeds }, (_, r) => networks[netId(role, r)][key]).filter(
          (v): v is number => v !== null && Number.isFinite(v)
        );
        out[key] = {
          mean: values.length ? mean(values) : null,
          std: values.length ? Math.sqrt(populationVariance(values)) : null
        };
      }
      return out;
    };
    seeds = { student: agg('S'), baseline: agg('B') };
  }
  return {
    experiment: paths.id,
    createdAt: new Date().toISOString(),
    settings: {
      threshold: options.threshold,
      maskRule: config.quantification.maskRule,
      backgroundFilter: options.backgroundFilter,
      grid: config.quantification.grid,
      images: set.ids.length,
      seeds: config.seeds,
      alpha: config.verdicts.alpha
    },
    images: set.ids,
    networks,
    summary: {
      teacher: summarise(networks.T, networks.T.accuracy, false),
      student: summarise(networks.S, networks.S.accuracy, true),
      baseline: summarise(networks.B, networks.B.accuracy, true)
    },
    verdicts: config.seeds === 1 ? verdictsPerSeed[0] : foldChecks(combineVerdicts(verdictsPerSeed), checks),
    verdictsPerSeed,
    checks,
    seeds,
    ...(config.study ? { study: studyMetrics(config, networks) } : {})
  };
}

/** Over several seeds: the most frequent result (ties: inconclusive), with the count per result and how many seeds agree. */
export function combineVerdicts(perSeed: Verdicts[]): Verdicts {
  const out = {} as Verdicts;
  for (const h of ['H1', 'H2', 'H3'] as const) {
    const counts = new Map<string, number>();
    for (const v of perSeed) counts.set(v[h].result, (counts.get(v[h].result) ?? 0) + 1);
    const sorted = [...counts.entries()].sort((a, b) => b[1] - a[1]);
    const result =
      sorted.length > 1 && sorted[0][1] === sorted[1][1] ? 'inconclusive' : (sorted[0][0] as Verdicts['H1']['result']);
    const tally = sorted.map(([r, c]) => `${r} in ${c} of ${perSeed.length} seeds`).join(', ');
    const agreeing = perSeed.filter((v) => v[h].result === result).length;
    const seed0 = perSeed[0][h].details.replace(/^not meaningful: [^—]*— /, '');
    out[h] = {
      result,
      details: `${result}: ${agreeing} of ${perSeed.length} seeds agree (${tally}). Seed 0: ${seed0}`,
      components: perSeed[0][h].components,
      meaningful: true,
      seedsAgreeing: agreeing,
      seeds: perSeed.length
    };
  }
  return out;
}
