/*
 * The study part of metrics.json: which checkpoints each network has (from the study source and
 * the path-length files written when the study was created), every student against the baseline
 * of its seed (verdicts per pair), and a table ranking the methods on the six numbers, seeds of one
 * method averaged. Uses the same per-network analysis and verdicts as a trained run.
 */
import type { RunConfig } from '../../common/config';
import { SIX } from '../../common/metrics';
import type { StudyMetrics } from '../../common/study';
import { CHECKPOINT_PATH_LENGTH_NOTE, type StudySource } from '../../common/study-source';
import type { ExperimentPaths } from '../experiment/paths';
import type { NetworkCheckpoints } from '../experiment/quantify';
import type { NetworkMetrics } from '../experiment/analysis';
import { verdicts } from '../experiment/verdicts';
import { readPathLength } from '../experiment/record';
import { mean } from '../util/moments';

/** The analysed checkpoints of a study: the teacher's last; every checkpoint of students and baselines. */
export async function studyCheckpoints(study: StudySource, paths: ExperimentPaths): Promise<NetworkCheckpoints[]> {
  const out: NetworkCheckpoints[] = [];
  for (const n of study.networks) {
    if (n.role === 'teacher') {
      const last = n.checkpoints.at(-1)!;
      out.push({
        net: n.net,
        checkpoints: [{ key: 'final', epoch: last.epoch, modelDir: last.path, pathLength: null }]
      });
      continue;
    }
    const log = await readPathLength(paths, n.net);
    const byEpoch = new Map(log.checkpoints.map((c) => [c.epoch, c.pathLength]));
    out.push({
      net: n.net,
      checkpoints: n.checkpoints.map((c) => ({
        key: `epoch-${c.epoch}`,
        epoch: c.epoch,
        modelDir: c.path,
        pathLength: byEpoch.get(c.epoch) ?? null
      }))
    });
  }
  return out;
}

/** Which way is better on each of the six numbers (the paper's hypotheses). */
const HIGHER_IS_BETTER: Record<(typeof SIX)[number], boolean> = {
  N_fg: true,
  N_bg: false,
  ratio: true,
  D_mean: false,
  D_std: false,
  rho: true
};

/** Ranks 1..n (1 = best), ties sharing their mean rank; null values get no rank. */
export function rankValues(values: (number | null)[], higherIsBetter: boolean): (number | null)[] {
  const idx = values.map((v, i) => ({ v, i })).filter((x): x is { v: number; i: number } => x.v !== null);
  idx.sort((a, b) => (higherIsBetter ? b.v - a.v : a.v - b.v));
  const out: (number | null)[] = values.map(() => null);
  for (let k = 0; k < idx.length;) {
    let j = k;
    while (j + 1 < idx.length && idx[j + 1].v === idx[k].v) j++;
    const rank = (k + j) / 2 + 1;
    for (let t = k; t <= j; t++) out[idx[t].i] = rank;
    k = j + 1;
  }
  return out;
}

export function studyMetrics(
  config: RunConfig,
  networks: Record<string, NetworkMetrics & { accuracy: number | null }>
): StudyMetrics {
  const study = config.study!;
  const learners = study.networks.filter((n) => n.role !== 'teacher');
  const baselines = learners.filter((n) => n.role === 'baseline');
  const firstMethod = baselines[0].method;
  const baseSeeds = baselines.filter((n) => n.method === firstMethod);
  const pairs: StudyMetrics['pairs'] = [];
  for (const s of learners.filter((n) => n.role === 'student')) {
    const seed = learners.filter((n) => n.role === 'student' && n.method === s.method).indexOf(s);
    const b = baseSeeds[Math.min(seed, baseSeeds.length - 1)];
    const v = verdicts(networks[s.net], networks[b.net], { ...config.verdicts, seed: config.seed + seed });
    pairs.push({
      student: s.net,
      baseline: b.net,
      H1: v.H1.result,
      H2: v.H2.result,
      H3: v.H3.result,
      components: (['H1', 'H2', 'H3'] as const).flatMap((h) =>
        v[h].components.map((c) => ({ hypothesis: h, metric: c.metric, outcome: c.outcome, p: c.p }))
      )
    });
  }
  const groups: { role: 'student' | 'baseline'; method: string; nets: string[] }[] = [];
  for (const n of learners) {
    const g = groups.find((x) => x.role === n.role && x.method === n.method);
    if (g) g.nets.push(n.net);
    else groups.push({ role: n.role as 'student' | 'baseline', method: n.method, nets: [n.net] });
  }
  const values = groups.map((g) => {
    const out: Record<string, number | null> = {};
    for (const key of [...SIX, 'accuracy'] as const) {
      // A network with no analysed image left has no numbers to rank (its zeros would mean nothing).
      const vs = g.nets
        .filter((n) => networks[n].images > 0 || key === 'accuracy')
        .map((n) => networks[n][key])
        .filter((v): v is number => v !== null && Number.isFinite(v));
      out[key] = vs.length ? mean(vs) : null;
    }
    return out;
  });
  const ranks = groups.map(() => ({}) as Record<string, number | null>);
  for (const key of SIX) {
    const r = rankValues(
      values.map((v) => v[key]),
      HIGHER_IS_BETTER[key]
    );
    r.forEach((x, i) => (ranks[i][key] = x));
  }
  const ranking = groups.map((g, i) => {
    const rs = SIX.map((k) => ranks[i][k]).filter((x): x is number => x !== null);
    return { ...g, values: values[i], ranks: ranks[i], meanRank: rs.length ? mean(rs) : null };
  });
  ranking.sort((a, b) => (a.meanRank ?? Infinity) - (b.meanRank ?? Infinity));
  const approx = study.networks.some((n) => n.role !== 'teacher' && n.pathLength.source === 'checkpoints');
  return {
    networks: study.networks.map((n) => ({
      net: n.net,
      role: n.role,
      name: n.name,
      method: n.method,
      pathLength: n.pathLength.source,
      accuracy: networks[n.net]?.accuracy ?? null
    })),
    pathLengthNote: approx ? CHECKPOINT_PATH_LENGTH_NOTE : null,
    pairs,
    ranking
  };
}
