/*
 * Small SVG pieces for the self-contained report: line charts with axes and a legend, and an
 * image with its entropy heat map or concept cells on top. Pure string building, escaped.
 */
import { CONCEPT_COLOURS } from '../../common/palette';

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface Series {
  label: string;
  colour: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
}

const tickValues = (lo: number, hi: number, count = 5): number[] => {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
};

/** A line chart; returns an <svg> element. */
export function lineChart(
  series: readonly Series[],
  opts: { title: string; xLabel: string; yLabel: string; width?: number; height?: number }
): string {
  const w = opts.width ?? 420,
    h = opts.height ?? 260;
  const m = { l: 52, r: 12, t: 28, b: 40 };
  const pts = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  if (pts.length === 0)
    return `<svg width="${w}" height="${h}" role="img"><text x="10" y="20">${escapeHtml(opts.title)}: no data</text></svg>`;
  const x0 = Math.min(...pts.map((p) => p.x));
  const y0 = Math.min(0, ...pts.map((p) => p.y));
  let x1 = Math.max(...pts.map((p) => p.x));
  let y1 = Math.max(...pts.map((p) => p.y));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const X = (x: number): number => m.l + ((x - x0) / (x1 - x0)) * (w - m.l - m.r);
  const Y = (y: number): number => h - m.b - ((y - y0) / (y1 - y0)) * (h - m.t - m.b);
  const parts: string[] = [
    `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeHtml(opts.title)}" font-family="sans-serif" font-size="11">`
  ];
  parts.push(`<text x="${w / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeHtml(opts.title)}</text>`);
  for (const t of tickValues(y0, y1))
    parts.push(
      `<line x1="${m.l}" x2="${w - m.r}" y1="${Y(t)}" y2="${Y(t)}" stroke="#ddd"/><text x="${m.l - 4}" y="${Y(t) + 4}" text-anchor="end">${t}</text>`
    );
  for (const t of tickValues(x0, x1))
    parts.push(`<text x="${X(t)}" y="${h - m.b + 14}" text-anchor="middle">${t}</text>`);
  parts.push(
    `<line x1="${m.l}" x2="${w - m.r}" y1="${h - m.b}" y2="${h - m.b}" stroke="#333"/><line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${h - m.b}" stroke="#333"/>`
  );
  parts.push(`<text x="${(m.l + w - m.r) / 2}" y="${h - 6}" text-anchor="middle">${escapeHtml(opts.xLabel)}</text>`);
  parts.push(
    `<text transform="translate(12 ${(m.t + h - m.b) / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(opts.yLabel)}</text>`
  );
  series.forEach((s, i) => {
    const p = s.points.filter((q) => Number.isFinite(q.x) && Number.isFinite(q.y));
    if (p.length) {
      parts.push(
        `<polyline fill="none" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${p.map((q) => `${X(q.x).toFixed(1)},${Y(q.y).toFixed(1)}`).join(' ')}"/>`
      );
      for (const q of p)
        parts.push(`<circle cx="${X(q.x).toFixed(1)}" cy="${Y(q.y).toFixed(1)}" r="2.5" fill="${s.colour}"/>`);
    }
    // A line sample as drawn (dashed for dashed series), so N_fg and N_bg are told apart as in the app.
    parts.push(
      `<line x1="${m.l + 6 + i * 110}" y1="${m.t + 2}" x2="${m.l + 20 + i * 110}" y2="${m.t + 2}" stroke="${s.colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 2"' : ''}/><text x="${m.l + 24 + i * 110}" y="${m.t + 5}">${escapeHtml(s.label)}</text>`
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/** Colour of an entropy value in [lo, hi]: dark blue (low entropy, informative) to yellow. */
export function heatColour(v: number, lo: number, hi: number): string {
  const t = hi > lo ? Math.max(0, Math.min(1, (v - lo) / (hi - lo))) : 0.5;
  const stops = [
    [48, 18, 59],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37]
  ];
  const f = t * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(f));
  const u = f - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * u));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/**
 * An image (PNG data URI) with a G x G overlay: 'entropy' fills every cell with its heat colour,
 * 'concepts' outlines concept cells (foreground and background colours).
 */
export interface CellOverlay {
  /** The image, a PNG data URI. */
  imageUri: string;
  grid: number;
  /** Side of the drawing, px. */
  size: number;
  kind: 'entropy' | 'concepts';
  /** Per cell: the entropy ('entropy') or the concept flag ('concepts'). */
  values: ArrayLike<number>;
  foreground: ArrayLike<number>;
  /** The entropy range the heat colours span. */
  range: [number, number];
  title: string;
}

export function cellOverlay({ imageUri, grid, size, kind, values, foreground, range, title }: CellOverlay): string {
  const cell = size / grid;
  const parts = [
    `<svg viewBox="0 0 ${size} ${size}" width="${size}" height="${size}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title><image href="${imageUri}" width="${size}" height="${size}" preserveAspectRatio="none" style="image-rendering:pixelated"/>`
  ];
  for (let a = 0; a < grid; a++) {
    for (let b = 0; b < grid; b++) {
      const k = a * grid + b;
      if (kind === 'entropy')
        parts.push(
          `<rect x="${b * cell}" y="${a * cell}" width="${cell}" height="${cell}" fill="${heatColour(values[k], range[0], range[1])}" fill-opacity="0.6"/>`
        );
      else if (values[k])
        parts.push(
          `<rect x="${b * cell + 1}" y="${a * cell + 1}" width="${cell - 2}" height="${cell - 2}" fill="none" stroke="${foreground[k] ? CONCEPT_COLOURS.foreground : CONCEPT_COLOURS.background}" stroke-width="2"/>`
        );
    }
  }
  parts.push('</svg>');
  return parts.join('');
}
