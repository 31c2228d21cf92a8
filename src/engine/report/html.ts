/*
 * report.html: one self-contained file (inline SVG and PNG data URIs, no scripts, no network) with
 * the configuration, training curves, concept curves against path length, the table of six numbers,
 * the verdicts, and entropy / concept maps of sample images at several checkpoints.
 */
import { studyHeader, studyHtml } from '../study/report';
import { CONCEPT_COLOURS, NET_COLOURS, isFeatureStage, lighter } from '../../common/palette';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../../common/config';
import { whatRan, type ExperimentState } from '../../common/record-schemas';
import { writeFileAtomic, exists } from '../store/atomic';
import { insideWorkspace } from '../store/workspace';
import { conceptCells } from '../knowledge/concepts';
import { maskToGrid } from '../knowledge/grid';
import { readMaskGrey } from '../io/images';
import { loadDataset, datasetPath } from '../data/store';
import { ExperimentPaths } from '../experiment/paths';
import { readConfig, readState, readTrainLog } from '../experiment/record';
import { readMaps } from '../experiment/record';
import type { MetricsDocument } from '../../common/metrics';
import { noImagesReason, untestedVerdict } from '../../common/no-images';
import { lineChart, cellOverlay, escapeHtml, heatColour, type Series } from './svg';
import { checksHtml } from './checks';
import { shownFamily, shownTap } from '../../common/shown-config';
import { loadMetricsWithChecks } from '../experiment/checks-on-load';

// The app's colours (src/common/palette.ts), so that app and report tell the same story.
const COLOURS: Record<string, string> = { ...NET_COLOURS };
const colourOf = (net: string): string => COLOURS[net[0]] ?? '#636e72';
const num = (v: number | null | undefined, digits = 3): string =>
  v === null || v === undefined || !Number.isFinite(v) ? '–' : Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(digits);

/** The T/S/B table; a network without analysed images shows "—" and the reason, not zeros. */
export function reportTable(metrics: MetricsDocument): string {
  const rows: [string, keyof MetricsDocument['summary']][] = [
    ['Teacher (T)', 'teacher'],
    ['Student (S)', 'student'],
    ['Baseline (B)', 'baseline']
  ];
  const head =
    '<tr><th>network</th><th>N_fg</th><th>N_bg</th><th>ratio</th><th>D_mean</th><th>D_std</th><th>D_var</th><th>rho</th><th>images</th><th>val. accuracy</th><th>concept cells</th></tr>';
  const body = rows
    .map(([label, key]) => {
      const s = metrics.summary[key];
      const empty = noImagesReason(metrics, key);
      if (empty)
        return `<tr><td>${label}</td><td colspan="7" title="${escapeHtml(empty)}">— (${escapeHtml(empty)})</td><td>${s.images}</td><td>${num(s.accuracy)}</td><td>—</td></tr>`;
      // As in the app: numbers over checkpoints are undefined for a network analysed once (the teacher).
      const once = (metrics.networks[key[0].toUpperCase()]?.perCheckpoint.length ?? 0) <= 1;
      const over = (v: number | null): string => (once ? 'n/a (one checkpoint)' : num(v));
      return `<tr><td>${label}</td><td>${num(s.N_fg, 2)}</td><td>${num(s.N_bg, 2)}</td><td>${num(s.ratio)}</td><td>${over(s.D_mean)}</td><td>${over(s.D_std)}</td><td>${over(s.D_var)}</td><td>${over(s.rho)}</td><td>${s.images}</td><td>${num(s.accuracy)}</td><td>${s.conceptFraction === null ? '–' : `${(100 * s.conceptFraction).toFixed(1)} %`}</td></tr>`;
    })
    .join('');
  return `<table>${head}${body}</table>`;
}

/** The verdicts as list items; "not tested" when student or baseline has no analysed image. */
export function reportVerdicts(metrics: MetricsDocument): string {
  const untested = untestedVerdict(metrics);
  return (['H1', 'H2', 'H3'] as const)
    .map((h) =>
      untested
        ? `<li><b>${h}: not tested</b> — ${escapeHtml(untested)}</li>`
        : `<li><b>${h}: ${metrics.verdicts[h].result}</b> — ${escapeHtml(metrics.verdicts[h].details)}</li>`
    )
    .join('');
}

function withoutNeverLearned(metrics: MetricsDocument): string {
  const rows = ['S', 'B']
    .map((net) => {
      const n = metrics.networks[net];
      const w = n.withoutNeverLearned;
      return `<tr><td>${net}</td><td>${n.neverLearned}</td><td>${num(w.D_mean)}</td><td>${num(w.D_std)}</td><td>${num(w.rho)}</td><td>${w.images}</td></tr>`;
    })
    .join('');
  return `<table><tr><th>network</th><th>images never learned</th><th>D_mean without them</th><th>D_std without them</th><th>rho without them</th><th>images</th></tr>${rows}</table>`;
}

function filters(metrics: MetricsDocument): string {
  const rows = Object.entries(metrics.networks)
    .map(
      ([net, n]) =>
        `<tr><td>${net}</td><td>${n.images}</td><td>${n.removed.notEffective}</td><td>${n.removed.noForeground}</td><td>${n.removed.backgroundFilter}</td><td>${n.noBackground}</td></tr>`
    )
    .join('');
  return `<table><tr><th>network</th><th>images used</th><th>not effective (sigma_f2 = 0)</th><th>no foreground cell</th><th>background filter</th><th>no background (left out of H_bar)</th></tr>${rows}</table>`;
}

function conceptCharts(metrics: MetricsDocument): string {
  const nets = Object.keys(metrics.networks).filter((n) => n !== 'T');
  const series = (key: 'foreground' | 'background' | 'ratio' | 'conceptFraction'): Series[] =>
    nets.map((net) => ({
      label: net,
      colour: colourOf(net),
      dashed: net.includes('-'),
      points: metrics.networks[net].perCheckpoint.flatMap((c) => {
        const y = c[key];
        return y === null ? [] : [{ x: c.pathLength ?? 0, y }];
      })
    }));
  return [
    lineChart(series('foreground'), {
      title: 'Foreground concepts N_fg',
      xLabel: 'path length of the tap weights (normalised)',
      yLabel: 'mean N_fg'
    }),
    lineChart(series('background'), {
      title: 'Background concepts N_bg',
      xLabel: 'path length of the tap weights (normalised)',
      yLabel: 'mean N_bg'
    }),
    lineChart(series('ratio'), {
      title: 'Foreground ratio',
      xLabel: 'path length of the tap weights (normalised)',
      yLabel: 'N_fg / (N_fg + N_bg)'
    })
  ].join('');
}

async function trainingCharts(paths: ExperimentPaths, nets: string[]): Promise<string> {
  const loss: Series[] = [];
  const feature: Series[] = [];
  const acc: Series[] = [];
  for (const net of nets) {
    const logs = await readTrainLog(paths, net);
    if (logs.length === 0) continue;
    for (const [index, stage] of [...new Set(logs.map((l) => l.stage))].entries()) {
      const l = logs.filter((x) => x.stage === stage);
      // As in the app: a network's later stage dashed and lighter; the student's feature loss on its own chart.
      const later = index > 0;
      const colour = later ? lighter(colourOf(net)) : colourOf(net);
      const label = `${net} ${stage.replace('student ', '').replace('teacher ', '')}`;
      (isFeatureStage(net, stage) ? feature : loss).push({
        label,
        colour,
        dashed: later,
        points: l.map((x) => ({ x: x.epoch, y: x.valLoss ?? x.loss }))
      });
      if (l[0].accuracy !== null)
        acc.push({
          label,
          colour,
          dashed: later,
          points: l.map((x) => ({ x: x.epoch, y: x.valAccuracy ?? x.accuracy! }))
        });
    }
  }
  return (
    lineChart(loss, {
      title: 'Loss per epoch (validation where available)',
      xLabel: 'epoch',
      yLabel: 'loss',
      width: 520
    }) +
    (feature.length
      ? lineChart(feature, {
          title: 'Student stage 1: feature loss at L',
          xLabel: 'epoch',
          yLabel: 'feature loss',
          width: 520
        })
      : '') +
    lineChart(acc, {
      title: 'Accuracy per epoch (validation where available)',
      xLabel: 'epoch',
      yLabel: 'accuracy',
      width: 520
    })
  );
}

/** How many images the report draws maps of. */
const MAP_IMAGES = 4;

async function imageMaps(
  workspace: string,
  config: RunConfig,
  paths: ExperimentPaths,
  metrics: MetricsDocument
): Promise<string> {
  const manifest = await loadDataset(workspace, config.dataset);
  const dir = datasetPath(workspace, config.dataset);
  const g = config.quantification.grid;
  const size = config.architecture.inputSize;
  // Images where S and B differ most in final N_fg first.
  const s = new Map(metrics.networks.S.perImage.map((m) => [m.index, m]));
  const order = metrics.networks.B.perImage
    .filter((b) => s.has(b.index))
    .map((b) => ({ index: b.index, diff: Math.abs(s.get(b.index)!.foreground.at(-1)! - b.foreground.at(-1)!) }))
    .sort((a, b) => b.diff - a.diff)
    .slice(0, MAP_IMAGES)
    .map((x) => x.index);
  const columns: { net: string; key: string; label: string; cp: number }[] = [
    { net: 'T', key: 'final', label: 'T final', cp: 0 }
  ];
  for (const net of ['S', 'B']) {
    const cps = metrics.networks[net].perCheckpoint;
    for (const k of [...new Set([0, Math.floor((cps.length - 1) / 2), cps.length - 1])])
      columns.push({ net, key: `epoch-${cps[k].epoch}`, label: `${net} epoch ${cps[k].epoch}`, cp: k });
  }
  const maps = new Map<string, (Float32Array | null)[]>();
  for (const c of columns) maps.set(`${c.net}/${c.key}`, (await readMaps(paths, c.net, c.key)).entropy);
  const all = [...maps.values()].flatMap((list) => list.flatMap((e) => (e ? Array.from(e) : [])));
  const range: [number, number] = [Math.min(...all), Math.max(...all)];
  const rows: string[] = [];
  for (const index of order) {
    const sample = manifest.samples.find((x) => x.id === metrics.images[index]);
    if (!sample) continue;
    const png = await fs.readFile(insideWorkspace(dir, sample.image));
    const uri = `data:image/png;base64,${png.toString('base64')}`;
    const mask = await readMaskGrey(insideWorkspace(dir, sample.mask), { width: size, height: size });
    const fg = maskToGrid(mask.data, { height: size, width: size }, g, config.quantification.maskRule);
    const cells = columns.map((c) => {
      const e = maps.get(`${c.net}/${c.key}`)![index];
      if (!e) return `<td>not effective</td>`;
      const hBar = metrics.networks[c.net].perCheckpoint[c.cp].backgroundMean ?? NaN;
      const concepts = conceptCells(e, hBar, config.quantification.threshold);
      const drawing = { imageUri: uri, grid: g, size: 96, foreground: fg, range };
      const entropy = cellOverlay({ ...drawing, kind: 'entropy', values: e, title: `${c.label} entropy` });
      const conceptMap = cellOverlay({ ...drawing, kind: 'concepts', values: concepts, title: `${c.label} concepts` });
      return `<td>${entropy}${conceptMap}</td>`;
    });
    rows.push(`<tr><th>${escapeHtml(sample.id)}</th>${cells.join('')}</tr>`);
  }
  const legend = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (t) =>
        `<span class="swatch" style="background:${heatColour(range[0] + t * (range[1] - range[0]), range[0], range[1])}"></span>${num(range[0] + t * (range[1] - range[0]), 2)}`
    )
    .join(' ');
  return `<p>Top of each cell: entropy map (nats): ${legend}. Bottom: concept cells, <span style="color:${CONCEPT_COLOURS.foreground}">foreground</span> and <span style="color:${CONCEPT_COLOURS.background}">background</span>. Images where S and B differ most come first.</p><table class="maps"><tr><th>image</th>${columns.map((c) => `<th>${c.label}</th>`).join('')}</tr>${rows.join('')}</table>`;
}

/** What quantification was asked for (the frozen config) and what ran it (state.json), each engine with its task count. */
function engineLine(config: RunConfig, state: ExperimentState): string {
  const asked = `${config.engine}${config.engine === 'tfjs' ? '' : `, device ${config.device}`}`;
  const ran = whatRan(state).quantification.map(
    (q) => `<li data-engine="${escapeHtml(q.engine)}">${escapeHtml(q.engine)} — ${q.tasks} task(s)</li>`
  );
  const trained = whatRan(state).training.map(
    (t) =>
      `<li data-train-engine="${escapeHtml(t.engine)}">${escapeHtml(t.engine)} — ${escapeHtml(t.stages.join(', '))}</li>`
  );
  const training = trained.length
    ? `<p>Training engine asked for: ${escapeHtml(config.trainEngine)}; what ran each stage:</p><ul class="engines">${trained.join('')}</ul>`
    : '';
  return `<p>Quantification engine asked for: ${escapeHtml(asked)}; what ran it:</p>${ran.length ? `<ul class="engines">${ran.join('')}</ul>` : '<p>not recorded (an experiment of an older version)</p>'}${training}`;
}

/** Writes the report (default: experiments/<id>/report.html); returns its path. */
export async function writeReport(workspace: string, id: string, out?: string): Promise<string> {
  const paths = new ExperimentPaths(workspace, id);
  const config = await readConfig(paths);
  if (!(await exists(paths.metrics)))
    throw new Error(`experiment '${id}' has no metrics.json yet; finish it first (kd-lens run --resume ${id})`);
  const metrics = await loadMetricsWithChecks(workspace, paths, config);
  const state = await readState(paths);
  const nets = Object.keys(metrics.networks);
  const verdicts = reportVerdicts(metrics);
  const timings = Object.entries(state.stages)
    .filter(([, s]) => s.seconds !== undefined)
    .map(([n, s]) => `${escapeHtml(n)} ${s.seconds!.toFixed(0)} s`)
    .join(', ');
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>KD Lens report — ${escapeHtml(id)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f4f4f4}.maps td{text-align:center}.maps svg{display:block;margin:2px auto}.swatch{display:inline-block;width:14px;height:10px;margin:0 2px 0 8px}svg{margin:4px}pre{background:#f7f7f7;padding:1em;overflow:auto}@media (prefers-color-scheme: dark){body{background:#1e1e1e;color:#ddd}th{background:#333}pre{background:#2a2a2a}}</style></head><body>
<h1>KD Lens report</h1>
<p><b>${escapeHtml(id)}</b> — dataset <b>${escapeHtml(config.dataset)}</b>, ${config.study ? studyHeader(config) : `${escapeHtml(shownFamily(config))} at ${config.architecture.inputSize} px, tap <b>${escapeHtml(shownTap(config))}</b>`}, grid ${config.quantification.grid}, K = ${config.quantification.samples}, lambda ${config.quantification.lambda}, b = ${config.quantification.threshold}, ${metrics.settings.images} images, ${config.seeds} seed(s), backend ${escapeHtml(state.backend ?? '?')}.</p>
${engineLine(config, state)}
<h2>Protocol checks</h2>${checksHtml(metrics.checks)}
<h2>The six numbers</h2>${reportTable(metrics)}
<p>N_fg, N_bg and ratio at the final checkpoint (means over images). D_mean and D_std: mean and population standard deviation over images of the path length at which the image's foreground concepts peaked; D_var = D_std². rho: stability (final foreground concepts over all ever seen).</p>
${studyHtml(config, metrics)}
<h2>Verdicts (student against baseline)</h2><ul>${verdicts}</ul>
<h3>Images without any foreground concept</h3>${withoutNeverLearned(metrics)}
<h2>Concept curves</h2>${conceptCharts(metrics)}
<h2>Training</h2>${await trainingCharts(paths, nets)}
<h2>Entropy and concept maps</h2>${await imageMaps(workspace, config, paths, metrics)}
<h2>Image filters</h2>${filters(metrics)}
<h2>Configuration</h2><p>Stage times: ${timings || '–'}.</p><pre>${escapeHtml(JSON.stringify(config, null, 2))}</pre>
<p>Method: Cheng, Rao, Chen, Zhang, "Explaining Knowledge Distillation by Quantifying the Knowledge", CVPR 2020. Generated by KD Lens.</p>
</body></html>`;
  const target = out ?? paths.report;
  await writeFileAtomic(target, html);
  return target;
}

export const reportPath = (workspace: string, id: string): string =>
  join(new ExperimentPaths(workspace, id).root, 'report.html');
