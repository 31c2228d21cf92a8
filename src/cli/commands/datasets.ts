/*
 * `kd-lens datasets list | show ID | export-masks ID --out DIR`: what the workspace holds, one
 * dataset in detail, and its masks as PNG files named after the samples (for other tools).
 */
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '../command';
import { UsageError, type FlagSpec } from '../args';
import { datasetPath, listDatasets, loadDataset, type DatasetManifest } from '../../engine/data';
import { writeFileAtomic } from '../../engine/store/atomic';
import { resolveWorkspace } from '../../engine/store/workspace';

const flags: Record<string, FlagSpec> = {
  out: { type: 'string', value: 'DIR', help: 'export-masks: the folder to write <sample>.png masks into' },
  workspace: {
    type: 'string',
    value: 'DIR',
    help: 'the workspace folder (default: per-user folder; env KD_LENS_WORKSPACE)'
  },
  json: { type: 'boolean', help: 'machine-readable output' }
};

/** Samples per class name and per split. */
function counts(m: DatasetManifest): {
  classes: Record<string, number>;
  splits: Record<string, number>;
  edited: number;
} {
  const classes: Record<string, number> = Object.fromEntries(m.classes.map((c) => [c, 0]));
  const splits: Record<string, number> = {};
  let edited = 0;
  for (const s of m.samples) {
    classes[m.classes[s.label]] = (classes[m.classes[s.label]] ?? 0) + 1;
    splits[s.split] = (splits[s.split] ?? 0) + 1;
    if (s.edited) edited++;
  }
  return { classes, splits, edited };
}

function summaryOf(m: DatasetManifest): Record<string, unknown> {
  return {
    id: m.id,
    name: m.name,
    format: m.format,
    size: m.size,
    samples: m.samples.length,
    ...counts(m),
    createdAt: m.createdAt
  };
}

async function list(workspace: string, json: boolean): Promise<number> {
  const problems: { id: string; reason: string }[] = [];
  const all = await listDatasets(workspace, (id, reason) => problems.push({ id, reason }));
  if (json) {
    process.stdout.write(JSON.stringify({ workspace, datasets: all.map(summaryOf), problems }) + '\n');
    return 0;
  }
  for (const p of problems) process.stderr.write(`warning: dataset '${p.id}' cannot be read: ${p.reason}\n`);
  if (all.length === 0) {
    process.stdout.write(`no datasets in ${workspace} (kd-lens import ... adds one)\n`);
    return 0;
  }
  const rows = [
    ['ID', 'FORMAT', 'SAMPLES', 'CLASSES', 'SIZE', 'NAME'],
    ...all.map((m) => [m.id, m.format, String(m.samples.length), String(m.classes.length), `${m.size}px`, m.name])
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows)
    process.stdout.write(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n');
  return 0;
}

async function show(workspace: string, id: string, json: boolean): Promise<number> {
  const m = await loadDataset(workspace, id);
  if (json) {
    process.stdout.write(JSON.stringify(m) + '\n');
    return 0;
  }
  const c = counts(m);
  const origins: Record<string, number> = {};
  for (const s of m.samples) origins[s.maskOrigin] = (origins[s.maskOrigin] ?? 0) + 1;
  const lines = [
    `${m.id}: ${m.name}`,
    `  format     ${m.format}, from ${m.sourcePath}`,
    `  created    ${m.createdAt}`,
    `  size       ${m.size}x${m.size} px`,
    `  samples    ${m.samples.length} (${Object.entries(c.splits)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')})${c.edited ? `, ${c.edited} masks edited by hand` : ''}`,
    `  masks      ${Object.entries(origins)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `  classes    ${m.classes.length}`,
    ...Object.entries(c.classes).map(([k, v]) => `    ${k}: ${v}`),
    `  skipped    ${m.skipped.length}${m.skipped.length ? ' (kd-lens datasets show ' + m.id + ' --json lists them)' : ''}`,
    ...(m.notes ? [`  notes      ${m.notes}`] : [])
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}

async function exportMasks(workspace: string, id: string, out: string, json: boolean): Promise<number> {
  const m = await loadDataset(workspace, id);
  const dir = resolve(out);
  await fs.mkdir(dir, { recursive: true });
  for (const s of m.samples) {
    let bytes: Buffer;
    try {
      bytes = await fs.readFile(datasetPath(workspace, id, s.mask));
    } catch {
      throw new Error(`${datasetPath(workspace, id, s.mask)}: the mask of sample '${s.id}' is missing`);
    }
    await writeFileAtomic(join(dir, `${s.id}.png`), bytes);
  }
  if (json) process.stdout.write(JSON.stringify({ dataset: id, out: dir, masks: m.samples.length }) + '\n');
  else
    process.stdout.write(
      `wrote ${m.samples.length} masks of '${id}' to ${dir} (<sample>.png, 0 = background, 255 = foreground)\n`
    );
  return 0;
}

export const datasetsCommand: Command = {
  name: 'datasets',
  summary: 'list the datasets, show one, or export its masks',
  usage: 'kd-lens datasets list [--json] | datasets show ID [--json] | datasets export-masks ID --out DIR',
  flags,
  async run({ flags: f, positionals }) {
    const [sub, id, ...extra] = positionals;
    const workspace = resolveWorkspace(f.workspace as string | undefined);
    const json = Boolean(f.json);
    if (!sub) throw new UsageError('which one: list, show ID or export-masks ID --out DIR?');
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (sub === 'list') {
      if (id) throw new UsageError(`unexpected argument '${id}'`);
      return list(workspace, json);
    }
    if (sub === 'show' || sub === 'export-masks') {
      if (!id) throw new UsageError(`datasets ${sub} needs a dataset ID (kd-lens datasets list shows them)`);
      if (sub === 'show') return show(workspace, id, json);
      if (!f.out) throw new UsageError('export-masks needs --out DIR');
      return exportMasks(workspace, id, f.out as string, json);
    }
    throw new UsageError(`unknown datasets command '${sub}' (expected list, show or export-masks)`);
  }
};
