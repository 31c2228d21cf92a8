/*
 * Chart.js configurations for KD Lens charts (line charts of Series, bar charts of a few
 * numbers), themed from CSS variables, with an opaque background so that saved PNGs read well in
 * any viewer. Registers only the Chart.js parts used. Knows nothing of where the data came from.
 */
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  SubTitle,
  Title,
  Tooltip,
  type ChartConfiguration,
  type LegendItem,
  type Plugin,
  type PointStyle
} from 'chart.js';
import type { NetPalette, Series } from './series';

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  CategoryScale,
  BarController,
  BarElement,
  Legend,
  Tooltip,
  Title,
  SubTitle
);

export interface ChartColors {
  text: string;
  grid: string;
  background: string;
}

function cssVar(name: string, fallback: string): string {
  const v =
    typeof getComputedStyle === 'function'
      ? getComputedStyle(document.documentElement).getPropertyValue(name).trim()
      : '';
  return v || fallback;
}

/** The current theme's chart colours (call again after a theme change). */
export function themeColors(): { colors: ChartColors; nets: NetPalette } {
  return {
    colors: {
      text: cssVar('--ink', '#1c1f24'),
      grid: cssVar('--line', '#d5d9e0'),
      background: cssVar('--surface', '#ffffff')
    },
    nets: { T: cssVar('--net-t', '#009e73'), S: cssVar('--net-s', '#0072b2'), B: cssVar('--net-b', '#d55e00') }
  };
}

/** Fills the canvas with the background colour before drawing (PNG export). */
export const backgroundPlugin: Plugin = {
  id: 'kdBackground',
  beforeDraw(chart, _args, options) {
    const ctx = chart.ctx;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = (options as { color?: string }).color ?? '#ffffff';
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  }
};

function axis(title: string, colors: ChartColors): Record<string, unknown> {
  return {
    type: 'linear',
    title: { display: true, text: title, color: colors.text },
    ticks: { color: colors.text },
    grid: { color: colors.grid }
  };
}

export function lineConfig(
  series: readonly Series[],
  xTitle: string,
  yTitle: string,
  colors: ChartColors
): ChartConfiguration<'line'> {
  return {
    type: 'line',
    data: {
      datasets: series.map((s) => ({
        label: s.label,
        data: s.points.map((p) => ({ x: p.x, y: p.y })),
        borderColor: s.color,
        backgroundColor: s.color,
        borderDash: s.dashed ? [6, 4] : [],
        yAxisID: s.rightAxis ? 'y2' : 'y',
        borderWidth: 2,
        showLine: !s.marker,
        pointRadius: s.marker ? 7 : 2.5,
        pointStyle: s.pointStyle ?? 'circle',
        spanGaps: true,
        tension: 0
      }))
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      parsing: false,
      normalized: true,
      scales: {
        x: axis(xTitle, colors),
        y: axis(yTitle, colors),
        ...(series.some((s) => s.rightAxis)
          ? {
              y2: {
                ...axis('feature loss (student stage 1)', colors),
                position: 'right',
                grid: { drawOnChartArea: false }
              }
            }
          : {})
      },
      plugins: {
        legend: {
          labels: {
            color: colors.text,
            usePointStyle: true,
            pointStyleWidth: 26,
            generateLabels: (chart: Chart) => legendItems(chart, series, colors)
          }
        },
        tooltip: { mode: 'nearest', intersect: false },
        ...({ kdBackground: { color: colors.background } } as Record<string, unknown>)
      }
    },
    plugins: [backgroundPlugin]
  };
}

/**
 * Legend entries that can be told apart: a line sample in the series' colour, dashed for dashed
 * series, a point symbol for marker-only series (the teacher's single checkpoint).
 */
function legendItems(chart: Chart, series: readonly Series[], colors: ChartColors): LegendItem[] {
  return series.map((s, i) => ({
    text: s.label,
    datasetIndex: i,
    hidden: !chart.isDatasetVisible(i),
    fontColor: colors.text,
    strokeStyle: s.color,
    fillStyle: s.marker ? s.color : colors.background,
    lineWidth: s.marker ? 1 : 3,
    lineDash: s.dashed ? [4, 3] : [],
    pointStyle: (s.marker ? (s.pointStyle ?? 'circle') : 'line') as PointStyle
  }));
}

export interface BarSet {
  label: string;
  color: string;
  values: (number | null)[];
  /** An error bar [low, high] per value (bootstrap interval or seed spread), or null. */
  errors?: ([number, number] | null)[];
}

/** Draws each bar's error bar (a vertical line with caps) over the bars. */
export const errorBarPlugin: Plugin = {
  id: 'kdErrorBars',
  afterDatasetsDraw(chart) {
    const ctx = chart.ctx;
    const y = chart.scales.y;
    chart.data.datasets.forEach((d, i) => {
      const errors = (d as { errorBars?: ([number, number] | null)[] }).errorBars;
      if (!errors || !chart.isDatasetVisible(i)) return;
      chart.getDatasetMeta(i).data.forEach((bar, k) => {
        const e = errors[k];
        if (!e) return;
        const x = bar.x;
        const [top, bottom] = [y.getPixelForValue(e[1]), y.getPixelForValue(e[0])];
        ctx.save();
        ctx.strokeStyle = (chart.options.plugins?.legend?.labels?.color as string | undefined) ?? '#222';
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(x, top);
        ctx.lineTo(x, bottom);
        ctx.moveTo(x - 5, top);
        ctx.lineTo(x + 5, top);
        ctx.moveTo(x - 5, bottom);
        ctx.lineTo(x + 5, bottom);
        ctx.stroke();
        ctx.restore();
      });
    });
  }
};

export function barConfig(
  labels: readonly string[],
  sets: readonly BarSet[],
  yTitle: string,
  colors: ChartColors
): ChartConfiguration<'bar'> {
  return {
    type: 'bar',
    data: {
      labels: [...labels],
      datasets: sets.map((s) => ({
        label: s.label,
        data: [...s.values],
        backgroundColor: s.color,
        borderColor: s.color,
        ...(s.errors ? { errorBars: s.errors } : {})
      }))
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: {
        x: { ticks: { color: colors.text }, grid: { color: colors.grid } },
        y: {
          title: { display: true, text: yTitle, color: colors.text },
          ticks: { color: colors.text },
          grid: { color: colors.grid },
          beginAtZero: true,
          suggestedMax: Math.max(0, ...sets.flatMap((s) => (s.errors ?? []).map((e) => (e ? e[1] : 0)))) || undefined
        }
      },
      plugins: {
        legend: { labels: { color: colors.text } },
        ...({ kdBackground: { color: colors.background } } as Record<string, unknown>)
      }
    },
    plugins: [backgroundPlugin, errorBarPlugin]
  };
}

export { Chart };
