/*
 * Protocol checks for runs made before metrics.json carried them: computed when the document is
 * loaded, from its own numbers and the files beside it (not written back: metrics.json stays as the
 * run left it). A document that does not have the fields the checks need is returned unchanged.
 */
import { z } from 'zod';
import { readJson } from '../store/atomic';
import { readManifest } from '../training/data';
import { readMask } from '../io/images';
import { insideWorkspace } from '../store/workspace';
import { maskToGrid } from '../knowledge/grid';
import type { RunConfig } from '../../common/config';
import type { Verdicts } from './verdicts';
import type { ExperimentPaths } from './paths';
import { protocolChecks, foldChecks, fileInputs, foregroundShares } from './protocol';

const num = z.number().nullable();
/** The fields of metrics.json that the checks read (older documents have them all). */
const CheckableSchema = z.object({
  settings: z.object({ images: z.number() }),
  networks: z.record(
    z.string(),
    z
      .object({
        images: z.number(),
        accuracy: num,
        removed: z.object({
          notEffective: z.number(),
          noForeground: z.number(),
          backgroundFilter: z.number()
        }),
        neverLearned: z.number(),
        perCheckpoint: z.array(z.object({ conceptFraction: z.number() }).passthrough()),
        perImage: z.array(z.object({ index: z.number() }).passthrough())
      })
      .passthrough()
  )
});

/** The foreground share of cells of each analysed image, from images.json and the dataset's masks (null if any is missing). */
async function storedForegroundShares(
  workspace: string,
  paths: ExperimentPaths,
  config: RunConfig
): Promise<number[] | null> {
  try {
    const { ids } = z.object({ ids: z.array(z.string()) }).parse(await readJson(paths.images));
    const { manifest, dir } = await readManifest(workspace, config.dataset);
    const byId = new Map(manifest.samples.map((s) => [s.id, s]));
    const size = config.architecture.inputSize;
    const grids: Uint8Array[] = [];
    for (const id of ids) {
      const sample = byId.get(id);
      if (!sample) return null;
      const mask = await readMask(insideWorkspace(dir, sample.mask), { width: size, height: size });
      grids.push(maskToGrid(mask.data, size, size, config.quantification.grid, config.quantification.maskRule));
    }
    return foregroundShares(grids);
  } catch {
    return null; // the dataset changed or is gone: the check is left out
  }
}

/** metrics.json as stored, with `checks` added (and folded into the verdicts) where it had none. */
export async function loadMetricsWithChecks(
  workspace: string,
  paths: ExperimentPaths,
  config: RunConfig
): Promise<unknown> {
  const raw = await readJson(paths.metrics);
  if (typeof raw !== 'object' || raw === null || 'checks' in raw) return raw;
  const doc = CheckableSchema.safeParse(raw);
  if (!doc.success) return raw;
  const classes = await readManifest(workspace, config.dataset).then(
    (m) => m.manifest.classes.length,
    () => null
  );
  const networks = doc.data.networks;
  const checks = protocolChecks({
    seeds: config.seeds,
    maskRule: config.quantification.maskRule,
    drawn: doc.data.settings.images,
    networks,
    classes,
    foregroundShares: await storedForegroundShares(workspace, paths, config),
    ...(await fileInputs(config, paths, Object.keys(networks)))
  });
  const out: Record<string, unknown> = { ...raw, checks };
  const verdicts = (raw as { verdicts?: Verdicts }).verdicts;
  if (verdicts?.H1 && verdicts.H2 && verdicts.H3) out.verdicts = foldChecks(verdicts, checks);
  const perSeed = (raw as { verdictsPerSeed?: Verdicts[] }).verdictsPerSeed;
  if (Array.isArray(perSeed)) out.verdictsPerSeed = perSeed.map((v) => foldChecks(v, checks));
  return out;
}
