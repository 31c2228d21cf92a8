/*
 * Figures for a paper from a chart's configuration: a PNG drawn again off screen at 3x of a 600 x 400
 * CSS-pixel figure (1800 x 1200 pixels), so text keeps its size relative to the figure, with the
 * chart's title, the run's name and the legend; and an SVG drawn from the same data (line and bar
 * charts as KD Lens makes them), so it scales in a paper. The canvas is given its CSS size and
 * Chart.js multiplies by devicePixelRatio: setting the canvas to the pixel size as well once gave
 * 8100 x 5400 px with text under 1 % of the width.
 */
import type { ChartConfiguration } from 'chart.js';
import { Chart } from './config';

export const EXPORT_WIDTH = 600;
export const EXPORT_HEIGHT = 400;
export const EXPORT_SCALE = 3;
/** Title and run-name font sizes of an exported figure, in CSS pixels of the 600 x 400 figure (ticks: Chart.js's 12). */
export const EXPORT_FONT = { title: 15, subtitle: 11 } as const;

export interface FigureLabels {
  title: string;
  /** The run's name (and id) under the title. */
  run: string;
}

/** The configuration drawn for export: fixed size, 3x pixels, title and run name, legend shown. */
export function exportConfig(config: ChartConfiguration, labels: FigureLabels): ChartConfiguration {
  const options = config.options ?? {};
  const plugins = (options.plugins ?? {}) as Record<string, unknown>;
  const legend = (plugins.legend ?? {}) as Record<string, unknown>;
  const text = ((legend.labels as { color?: string } | undefined)?.color ?? '#000') as string;
  return {
    ...config,
    options: {
      ...options,
      responsive: false,
      maintainAspectRatio: false,
      animation: false,
      devicePixelRatio: EXPORT_SCALE,
      plugins: {
        ...plugins,
        legend: { ...legend, display: true, position: 'bottom' },
        title: { display: true, text: labels.title, color: text, font: { size: EXPORT_FONT.title, weight: 'bold' } },
        subtitle: {
          display: true,
          text: labels.run,
          color: text,
          font: { size: EXPORT_FONT.subtitle },
          padding: { bottom: 6 }
        }
      }
    }
  } as ChartConfiguration;
}

/** A PNG data URL of the chart, 1800 x 1200 px (3x), with title, run name and legend; null without a 2D context. */
export function renderPng(config: ChartConfiguration, labels: FigureLabels): string | null {
  const canvas = document.createElement('canvas');
  // The CSS size; Chart.js makes the pixel buffer EXPORT_SCALE times larger (devicePixelRatio).
  canvas.width = EXPORT_WIDTH;
  canvas.height = EXPORT_HEIGHT;
  canvas.style.width = `${EXPORT_WIDTH}px`;
  canvas.style.height = `${EXPORT_HEIGHT}px`;
  let ctx: CanvasRenderingContext2D | null = null;
  try {
    ctx = canvas.getContext('2d');
  } catch {
    ctx = null;
  }
  if (!ctx) return null;
  const chart = new Chart(ctx, exportConfig(config, labels));
  try {
    return chart.toBase64Image('image/png', 1);
  } finally {
    chart.destroy();
  }
}
