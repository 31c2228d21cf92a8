/*
 * The finished runs of the workspace as estimate-history wants them: configuration, training-set
 * sizes of its datasets, and the recorded seconds of each stage. Runs whose files or datasets are
 * gone are skipped; at most the newest `limit` runs are read. The quantification engine is read from
 * the teacher's maps sidecar (older sidecars without it were computed by TF.js).
 */
import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { parseWith } from '../common/schema';
import { loadDataset } from '../engine/data';
import {
  applyFactors,
  correctionFactors,
  engineKind,
  factorsText,
  type EngineKind,
  type FinishedRun
} from '../engine/estimate-history';
import { estimateRun, type Calibration, type RunCounts } from '../engine/estimate';
import { estimateProbe } from '../engine/estimate-extras';
import type { RunConfig } from '../common/config';
import { readMapsSidecar } from '../engine/experiment/record';
import { ExperimentPaths } from '../engine/experiment/paths';
import { readConfig } from '../engine/experiment/runner';
import { readJson } from '../engine/store/atomic';
import { experimentsDir } from '../engine/store/workspace';

const StateTimes = z.object({
  status: z.string(),
  updatedAt: z.string().optional(),
  stages: z.record(z.string(), z.object({ status: z.string(), seconds: z.number().optional() }))
});

export async function finishedRuns(workspace: string, limit = 20): Promise<FinishedRun[]> {
  const ids = (await fs.readdir(experimentsDir(workspace)).catch(() => [] as string[]))
    .filter((d) => !d.startsWith('.'))
    .sort()
    .reverse();
  const out: FinishedRun[] = [];
  for (const id of ids) {
    if (out.length >= limit) break;
    try {
      const paths = new ExperimentPaths(workspace, id);
      const state = parseWith(StateTimes, await readJson(paths.state), paths.state);
      if (state.status !== 'done' && state.status !== 'finished') continue;
      const config = await readConfig(paths);
      // An ONNX-architecture run's stages time its own network, not the placeholder architecture its config.json names.
      if (config.onnxRun) continue;
      const trainOf = async (d: string | null): Promise<number> =>
        d ? (await loadDataset(workspace, d)).samples.filter((s) => s.split === 'train').length : 0;
      const counts = {
        targetTrain: await trainOf(config.dataset),
        sourceTrain: config.teacher.pretrained ? 0 : await trainOf(config.teacher.source)
      };
      const seconds = Object.fromEntries(
        Object.entries(state.stages).flatMap(([s, v]) =>
          v.status === 'done' && v.seconds !== undefined ? [[s, v.seconds]] : []
        )
      );
      out.push({ config, counts, seconds, quantEngine: await quantEngineOf(paths) });
    } catch {
      // unreadable run or missing dataset: not used for the estimate
    }
  }
  return out;
}

async function quantEngineOf(paths: ExperimentPaths): Promise<EngineKind> {
  const sidecar = await readMapsSidecar(paths, 'T', 'final').catch(() => null);
  return sidecar?.engine?.some((e) => engineKind(e) === 'onnx') ? 'onnx' : 'tfjs';
}

/** estimateRun refined by the workspace's finished runs: seconds per stage, their sum and how it was refined. */
export async function refinedEstimate(o: {
  workspace: string;
  config: RunConfig;
  counts: RunCounts;
  cal: Calibration;
  cpus: number;
}): Promise<{
  stages: Record<string, number>;
  seconds: number;
  refinement: string;
  refined: boolean;
  probe: number | null;
}> {
  const history = await finishedRuns(o.workspace);
  const factors = correctionFactors(history, o.cal, o.cpus);
  const stages = applyFactors(estimateRun(o.config, o.counts, o.cal, o.cpus), factors);
  // The probe is training: scaled like the training stages.
  const probe = estimateProbe(o.config, o.counts, o.cal);
  return {
    stages,
    probe: probe === null ? null : probe * (factors.training ?? 1),
    seconds: Object.values(stages).reduce((a, b) => a + b, 0),
    refinement: factorsText(factors, history.length),
    refined: factors.training !== null || factors.quantify !== null
  };
}
