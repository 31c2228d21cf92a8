/*
 * Protocol checks for runs made before metrics.json carried them: computed when the document is
 * loaded, from its own numbers and the files beside it (not written back: metrics.json stays as the
 * run left it). Every file is read through its owner (the experiment record, the dataset store).
 */
import type { RunConfig } from '../../common/config';
import type { MetricsDocument } from '../../common/metrics';
import { loadDataset, datasetPath } from '../data/store';
import { readMaskGrey } from '../io/images';
import { insideWorkspace } from '../store/workspace';
import { maskToGrid } from '../knowledge/grid';
import type { ExperimentPaths } from './paths';
import { readImages, readMetrics } from './record';
import { protocolChecks, foldChecks, fileInputs, foregroundShares } from './check-inputs';

/** The foreground share of cells of each analysed image, from images.json and the dataset's masks (null if any is missing). */
async function storedForegroundShares(
  workspace: string,
  paths: ExperimentPaths,
  config: RunConfig
): Promise<number[] | null> {
  try {
    const ids = (await readImages(paths))?.ids;
    if (!ids) return null;
    const manifest = await loadDataset(workspace, config.dataset);
    const dir = datasetPath(workspace, config.dataset);
    const byId = new Map(manifest.samples.map((s) => [s.id, s]));
    const size = config.architecture.inputSize;
    const grids: Uint8Array[] = [];
    for (const id of ids) {
      const sample = byId.get(id);
      if (!sample) return null;
      const mask = await readMaskGrey(insideWorkspace(dir, sample.mask), { width: size, height: size });
      grids.push(
        maskToGrid(mask.data, { height: size, width: size }, config.quantification.grid, config.quantification.maskRule)
      );
    }
    return foregroundShares(grids);
  } catch {
    return null; // the dataset changed or is gone: the check is left out
  }
}

/** A metrics document with `checks` added (and folded into the verdicts) where it had none. */
export async function withChecks(
  workspace: string,
  paths: ExperimentPaths,
  config: RunConfig,
  doc: MetricsDocument
): Promise<MetricsDocument> {
  if (doc.checks) return doc;
  const classes = await loadDataset(workspace, config.dataset).then(
    (m) => m.classes.length,
    () => null
  );
  const networks = doc.networks;
  const checks = protocolChecks({
    seeds: config.seeds,
    maskRule: config.quantification.maskRule,
    drawn: doc.settings.images,
    networks,
    classes,
    foregroundShares: await storedForegroundShares(workspace, paths, config),
    ...(await fileInputs(config, paths, Object.keys(networks)))
  });
  return {
    ...doc,
    checks,
    verdicts: foldChecks(doc.verdicts, checks),
    verdictsPerSeed: doc.verdictsPerSeed.map((v) => foldChecks(v, checks))
  };
}

/** metrics.json through its schema, with the checks of an older run computed on load. */
export async function loadMetricsWithChecks(
  workspace: string,
  paths: ExperimentPaths,
  config: RunConfig
): Promise<MetricsDocument> {
  return withChecks(workspace, paths, config, await readMetrics(paths));
}
