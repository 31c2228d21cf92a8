/*
 * The checks between a configuration and its target dataset (config-checks.ts datasetProblems),
 * run when an experiment is created from the CLI or the UI: a refused configuration is a
 * SchemaError naming the origin and the field, and no experiment folder is written.
 */
import type { RunConfig } from '../../common/config';
import { datasetProblems } from '../../common/config-checks';
import { SchemaError, formatPath } from '../../common/schema';
import { loadDataset } from '../data';

export async function assertFitsDataset(
  workspace: string,
  config: Pick<RunConfig, 'dataset' | 'quantification'>,
  origin: string
): Promise<void> {
  const m = await loadDataset(workspace, config.dataset);
  const problems = datasetProblems(config, {
    id: m.id,
    trainImages: m.samples.filter((s) => s.split === 'train').length,
    size: m.size
  });
  if (problems.length === 0) return;
  const list = problems.map((p) => ({ path: formatPath(p.path), message: p.message }));
  throw new SchemaError(`${origin}: ${list.map((p) => `field ${p.path}: ${p.message}`).join('; ')}`, origin, list);
}
