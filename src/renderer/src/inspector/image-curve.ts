/*
 * The series of the Inspector's per-image chart: for each column's network, the image's N_fg (solid)
 * and N_bg (dashed) per checkpoint, the teacher's drawn with markers, and the slider's checkpoint
 * marked on the student's and the baseline's curves. Pure: no API, no Vue.
 */
import type { MetricsDocument } from '../../../common/metrics';
import type { NetPalette, Series } from '../charts/series';
import { imageCurve, NETS, type Net } from './logic';

/** The chart's series for image `imageIndex`; `nets` names the network of each column, `marked` the slider's epochs. */
export function imageCurveSeries(o: {
  metrics: MetricsDocument | null;
  nets: Record<Net, string>;
  imageIndex: number;
  marked: Record<'S' | 'B', number | null>;
  palette: NetPalette;
}): Series[] {
  const series: Series[] = [];
  for (const n of NETS) {
    const net = o.nets[n];
    const c = imageCurve(o.metrics, net, o.imageIndex);
    if (!c) continue;
    const fg = c.epochs.map((x, j) => ({ x, y: c.foregroundConceptsByCheckpoint[j] }));
    const bg = c.epochs.map((x, j) => ({ x, y: c.backgroundConceptsByCheckpoint[j] }));
    series.push({
      label: `${net} N_fg`,
      color: o.palette[n],
      points: fg,
      marker: n === 'T',
      pointStyle: n === 'T' ? 'star' : 'circle'
    });
    series.push({
      label: `${net} N_bg`,
      color: o.palette[n],
      points: bg,
      dashed: true,
      marker: n === 'T',
      pointStyle: n === 'T' ? 'triangle' : 'circle'
    });
    // The slider's checkpoint, marked on the student's and the baseline's curves.
    const at = n === 'T' ? -1 : c.epochs.indexOf(o.marked[n] ?? NaN);
    if (at >= 0)
      series.push({
        label: `${net} at epoch ${c.epochs[at]}`,
        color: o.palette[n],
        points: [fg[at], bg[at]],
        marker: true,
        pointStyle: 'rectRot'
      });
  }
  return series;
}
