/*
 * The Inspector's colour range for one image over every analysed checkpoint of the run (teacher,
 * student and baseline), so a colour means the same entropy wherever the slider is. A range taken
 * at the shown checkpoint alone moved with the slider (-3.11…-2.65 nats at epoch 15, -2.99…-2.69 at
 * epoch 3) under a legend that promised one range; that per-checkpoint range stays available,
 * labelled, for contrast within one checkpoint.
 */
import type { CheckpointMaps } from '../../../common/api';
import { sharedRange, type Range } from '../utils/colormap';
import type { CheckpointRef, Net } from './logic';

export type RangeScope = 'run' | 'checkpoint';

export const RANGE_SCOPE_TEXT: Record<RangeScope, string> = {
  run: 'one range over every checkpoint of the run and all three columns',
  checkpoint: 'one range for the three columns at the checkpoints shown (changes with the slider)'
};

/** The range of image `index` over the given maps (missing maps and images without a map left out). */
export function rangeOverMaps(maps: readonly (CheckpointMaps | null)[], index: number): Range | null {
  return sharedRange(maps.map((m) => m?.entropy[index] ?? null));
}

/** Loads every checkpoint's maps of every network (a map that cannot be loaded is left out) and takes the range. */
export async function runRange(
  getMaps: (net: Net, checkpoint: string) => Promise<CheckpointMaps>,
  lists: Record<Net, readonly CheckpointRef[]>,
  index: number
): Promise<Range | null> {
  const all = await Promise.all(
    (Object.keys(lists) as Net[]).flatMap((n) => lists[n].map((cp) => getMaps(n, cp.key).catch(() => null)))
  );
  return rangeOverMaps(all, index);
}
