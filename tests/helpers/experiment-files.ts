/*
 * Reading an experiment's results for comparisons between two runs of the same work (local against the
 * cluster, a study against the run it came from): metrics.json without what names the run, and the .npy maps.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** metrics.json of experiment `id` without its id and creation time. */
export function metricsOf(ws: string, id: string): Record<string, unknown> {
  const m = JSON.parse(readFileSync(join(ws, 'experiments', id, 'metrics.json'), 'utf8')) as Record<string, unknown>;
  delete m.experiment;
  delete m.createdAt;
  return m;
}

/** Every entropy map file of experiment `id`, by `<net>/<file>.npy`. */
export function mapsOf(ws: string, id: string): Map<string, Buffer> {
  const root = join(ws, 'experiments', id, 'knowledge');
  const out = new Map<string, Buffer>();
  for (const net of readdirSync(root))
    for (const f of readdirSync(join(root, net)).filter((n) => n.endsWith('.npy')))
      out.set(`${net}/${f}`, readFileSync(join(root, net, f)));
  return out;
}
