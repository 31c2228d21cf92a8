/*
 * Seeds by default in the Experiment form (issue 9 §4): a dataset's defaults start with 1 seed so
 * the form shows at once; when the first estimate of that draft arrives, the form asks for the same
 * draft with DEFAULT_SEEDS seeds and, when that fits SEEDS_BUDGET_SECONDS and the user has not set
 * the seeds meanwhile, switches to it with a note saying why. Decided once per loaded defaults; the
 * demo, a copied run and a draft whose seeds the user typed are left alone.
 */
import { ref, type Ref } from 'vue';
import type { Estimate } from '../../../common/api';
import type { RunConfig } from '../../../common/config';
import { DEFAULT_SEEDS, SEEDS_BUDGET_SECONDS } from '../../../common/defaults';
import { formatDuration } from '../utils/format';

export interface DefaultSeeds {
  /** What the form says about the seeds it chose (null: nothing chosen for the user). */
  note: Ref<string | null>;
  /** New draft: `pending` when it is a dataset's defaults. */
  reset(pending: boolean): void;
  /** The user set the seeds: leave them alone. */
  touch(): void;
  /**
   * After an estimate of `config`: the configuration to switch to with its estimate, or null. When
   * `current()` says the draft moved on meanwhile, nothing is decided (the next estimate asks again).
   */
  consider(
    config: RunConfig,
    estimate: (c: RunConfig) => Promise<Estimate>,
    current: () => boolean
  ): Promise<{ config: RunConfig; estimate: Estimate } | null>;
}

export function createDefaultSeeds(): DefaultSeeds {
  const note = ref<string | null>(null);
  let pending = false;
  let touched = false;
  /** Counts drafts, so an answer for an earlier draft decides nothing for a newer one. */
  let generation = 0;
  return {
    note,
    reset(p) {
      generation++;
      pending = p;
      touched = false;
      note.value = null;
    },
    touch() {
      touched = true;
      pending = false;
      note.value = null;
    },
    async consider(config, estimate, current) {
      if (!pending || touched || config.seeds >= DEFAULT_SEEDS) return null;
      const asked = generation;
      const next = { ...config, seeds: DEFAULT_SEEDS };
      let more: Estimate;
      try {
        more = await estimate(next);
      } catch {
        return null; // the form keeps its seeds and asks again with the next estimate
      }
      if (touched || asked !== generation || !current()) return null;
      pending = false;
      const budget = `${SEEDS_BUDGET_SECONDS / 60} min`;
      if (more.seconds > SEEDS_BUDGET_SECONDS) {
        note.value = `${config.seeds} seed${config.seeds === 1 ? '' : 's'}: the estimate for ${DEFAULT_SEEDS} seeds (${formatDuration(more.seconds)}) is over ${budget}`;
        return null;
      }
      note.value = `${DEFAULT_SEEDS} seeds: the estimate fits ${budget} (${formatDuration(more.seconds)} on this machine); verdicts then say how many seeds agree`;
      return { config: next, estimate: more };
    }
  };
}
