/*
 * What the Inspector says about one clicked cell: which cell a click on a square canvas falls in,
 * and per network its entropy H_i, the margin H_bar - H_i against the threshold b, whether it is
 * foreground or background and whether it is a concept; and its entropy across checkpoints. Pure.
 */
import type { CheckpointMaps } from '../../../common/api';

/** The cell index (row-major) under a click at (x, y) in a box of the given size, or null outside. */
export function cellAt(
  { x, y }: { x: number; y: number },
  { width, height }: { width: number; height: number },
  grid: number
): number | null {
  if (width <= 0 || height <= 0 || x < 0 || y < 0 || x >= width || y >= height) return null;
  const c = Math.min(grid - 1, Math.floor((x / width) * grid));
  const r = Math.min(grid - 1, Math.floor((y / height) * grid));
  return r * grid + c;
}

export interface CellFacts {
  net: string;
  entropy: number | null;
  /** H_bar - H_i (null before H_bar is known or where the map is not effective). */
  margin: number | null;
  threshold: number;
  concept: boolean;
}

export function cellFacts(maps: CheckpointMaps | null, imageIndex: number, cell: number): CellFacts | null {
  if (!maps) return null;
  const e = maps.entropy[imageIndex]?.[cell];
  const entropy = typeof e === 'number' && Number.isFinite(e) ? e : null;
  const margin = entropy !== null && maps.backgroundMean !== null ? maps.backgroundMean - entropy : null;
  return {
    net: maps.net,
    entropy,
    margin,
    threshold: maps.threshold,
    concept: margin !== null && margin > maps.threshold
  };
}

export interface CellCourse {
  epoch: number;
  entropy: number | null;
}

/** The cell's entropy at each checkpoint of one network, in epoch order. */
export function cellCourse(
  mapsByCheckpoint: readonly CheckpointMaps[],
  imageIndex: number,
  cell: number
): CellCourse[] {
  return [...mapsByCheckpoint]
    .sort((a, b) => a.epoch - b.epoch)
    .map((m) => {
      const e = m.entropy[imageIndex]?.[cell];
      return { epoch: m.epoch, entropy: typeof e === 'number' && Number.isFinite(e) ? e : null };
    });
}
