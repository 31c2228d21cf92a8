/*
 * An SVG figure from a KD Lens chart configuration (line charts of {x, y} points, bar charts of
 * labelled values with optional error bars): axes with ticks, the title and run name, and a legend
 * with dashed lines and marker symbols as on screen. Pure string building, escaped; no DOM.
 */
import type { ChartConfiguration } from 'chart.js';
import type { FigureLabels } from './export';

const W = 720;
const H = 480;
const M = { left: 64, right: 24, top: 64, bottom: 96 };
const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (v: number): string =>
  Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2);

interface DatasetLike {
  label?: string;
  data: unknown[];
  borderColor?: unknown;
  backgroundColor?: unknown;
  borderDash?: number[];
  showLine?: boolean;
  errorBars?: ([number, number] | null)[];
}

/** Five round tick values spanning [lo, hi]. */
export function ticks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const step = Math.pow(10, Math.floor(Math.log10((hi - lo) / 4)));
  const nice = [1, 2, 5, 10].map((f) => f * step).find((s) => (hi - lo) / s <= 5) ?? 10 * step;
  const out: number[] = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-9 * nice; v += nice) out.push(Number(v.toPrecision(12)));
  return out;
}

function axisTitle(config: ChartConfiguration, id: 'x' | 'y'): string {
  const scale = (config.options?.scales as Record<string, { title?: { text?: string } }> | undefined)?.[id];
  return scale?.title?.text ?? '';
}

export function chartSvg(config: ChartConfiguration, labels: FigureLabels): string {
  const sets = config.data.datasets as unknown as DatasetLike[];
  const bar = config.type === 'bar';
  const categories = (config.data.labels ?? []) as string[];
  const points = sets.map((d) =>
    bar ? (d.data as (number | null)[]).map((y, i) => ({ x: i, y })) : (d.data as { x: number; y: number | null }[])
  );
  const ys = points
    .flat()
    .map((p) => p.y)
    .filter((v): v is number => v !== null && Number.isFinite(v));
  for (const d of sets) for (const e of d.errorBars ?? []) if (e) ys.push(e[0], e[1]);
  const xs = bar ? [-0.5, categories.length - 0.5] : points.flat().map((p) => p.x);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1];
  if (bar) y0 = Math.min(0, y0);
  if (y1 === y0) y1 = y0 + 1;
  const px = (x: number): number => M.left + ((x - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const py = (y: number): number => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`
  ];
  out.push(
    `<text x="${W / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(labels.title)}</text>`,
    `<text x="${W / 2}" y="42" text-anchor="middle">${esc(labels.run)}</text>`
  );
  out.push(
    `<line x1="${M.left}" y1="${H - M.bottom}" x2="${W - M.right}" y2="${H - M.bottom}" stroke="#333"/><line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${H - M.bottom}" stroke="#333"/>`
  );
  for (const t of ticks(y0, y1))
    out.push(
      `<text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end">${fmt(t)}</text><line x1="${M.left}" y1="${py(t)}" x2="${W - M.right}" y2="${py(t)}" stroke="#ddd"/>`
    );
  if (bar)
    categories.forEach((c, i) =>
      out.push(`<text x="${px(i)}" y="${H - M.bottom + 16}" text-anchor="middle">${esc(c)}</text>`)
    );
  else
    for (const t of ticks(x0, x1))
      out.push(`<text x="${px(t)}" y="${H - M.bottom + 16}" text-anchor="middle">${fmt(t)}</text>`);
  out.push(
    `<text x="${(M.left + W - M.right) / 2}" y="${H - M.bottom + 34}" text-anchor="middle">${esc(axisTitle(config, 'x'))}</text>`
  );
  out.push(
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(axisTitle(config, 'y'))}</text>`
  );
  const width = (W - M.left - M.right) / Math.max(1, categories.length) / (sets.length + 1);
  sets.forEach((d, k) => {
    const colour = String(d.borderColor ?? d.backgroundColor ?? '#000');
    const dash = d.borderDash?.length ? ` stroke-dasharray="${d.borderDash.join(' ')}"` : '';
    const pts = points[k].filter((p): p is { x: number; y: number } => p.y !== null && Number.isFinite(p.y));
    if (bar) {
      pts.forEach((p) => {
        const x = px(p.x) - (width * sets.length) / 2 + k * width;
        out.push(
          `<rect x="${x.toFixed(1)}" y="${Math.min(py(p.y), py(0)).toFixed(1)}" width="${(width * 0.9).toFixed(1)}" height="${Math.abs(py(0) - py(p.y)).toFixed(1)}" fill="${colour}"/>`
        );
        const e = d.errorBars?.[p.x];
        if (e)
          out.push(
            `<line data-error-bar="1" x1="${(x + width * 0.45).toFixed(1)}" y1="${py(e[0]).toFixed(1)}" x2="${(x + width * 0.45).toFixed(1)}" y2="${py(e[1]).toFixed(1)}" stroke="#222" stroke-width="1.5"/>`
          );
      });
    } else if (d.showLine === false) {
      for (const p of pts)
        out.push(`<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="5" fill="${colour}"/>`);
    } else if (pts.length) {
      out.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(' ')}"/>`
      );
    }
    const lx = M.left + (k % 3) * 210;
    const ly = H - 40 + Math.floor(k / 3) * 16;
    out.push(
      d.showLine === false
        ? `<circle cx="${lx + 12}" cy="${ly - 4}" r="4" fill="${colour}"/>`
        : `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 24}" y2="${ly - 4}" stroke="${colour}" stroke-width="${bar ? 8 : 2}"${dash}/>`
    );
    out.push(`<text x="${lx + 30}" y="${ly}">${esc(d.label ?? '')}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
