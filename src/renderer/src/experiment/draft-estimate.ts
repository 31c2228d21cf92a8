/*
 * The time estimate of the Experiment form's draft: asked after the draft rests for
 * ESTIMATE_DELAY_MS, only for a valid draft, one call at a time (each may start a calibration on
 * the host), the latest draft last, stale answers dropped. With an ONNX network the launched
 * configuration (the contract) is estimated, so the host times that network's own steps. A
 * dataset's defaults may switch to 3 seeds when the estimate says they fit (default-seeds.ts).
 */
import { ref, watch, type ComputedRef, type Ref } from 'vue';
import type { Estimate } from '../../../common/api';
import type { DatasetSummary } from '../../../common/dataset';
import type { RunConfig } from '../../../common/config';
import { errorMessage, getApi } from '../api';
import type { DefaultSeeds } from './default-seeds';
import type { DraftParse } from './draft-errors';
import { onnxRunConfig, type LaunchConfig, type OnnxChoice } from './onnx-teacher';

export const ESTIMATE_DELAY_MS = 500;

export interface DraftEstimateOptions {
  draft: Ref<RunConfig | null>;
  texts: Ref<Record<string, string>>;
  parsed: ComputedRef<DraftParse | null>;
  valid: ComputedRef<boolean>;
  onnxChoice: Ref<OnnxChoice | null>;
  seeds: DefaultSeeds;
  /** The workspace's datasets as the datasets store knows them (loaded: the list has been read). */
  datasets: { readonly loaded: boolean; readonly list: readonly DatasetSummary[] };
}

export function createDraftEstimate(o: DraftEstimateOptions) {
  const estimate = ref<Estimate | null>(null);
  const estimateError = ref<string | null>(null);
  const estimating = ref(false);
  let estimateSeq = 0;
  let estimateTimer: ReturnType<typeof setTimeout> | null = null;
  let estimatedKey = '';
  let inFlight = false;
  let again = false;

  /** Asks for the draft's estimate; one call at a time (each may start a calibration), the latest draft last. */
  async function refreshEstimate(): Promise<void> {
    if (inFlight) {
      again = true;
      return;
    }
    const c = o.parsed.value?.success ? o.parsed.value.data : null;
    if (!c || !o.valid.value) return;
    if (o.datasets.loaded && !o.datasets.list.some((d) => d.id === c.dataset)) {
      // Not asked (it would only fail): asked again when the dataset appears (datasets-changed).
      estimateError.value = `dataset '${c.dataset}' is not in the workspace yet${c.dataset === 'demo' ? ' (the demo data is generated on first launch; see the jobs panel)' : ''}`;
      estimate.value = null;
      return;
    }
    // With an ONNX network the launched configuration (the contract) is estimated: its own steps are timed.
    const choice = o.onnxChoice.value;
    const asked: LaunchConfig = choice ? onnxRunConfig(c, choice) : c;
    const { name: _name, ...rest } = asked;
    const key = JSON.stringify(rest);
    if (key === estimatedKey && estimate.value) return;
    const seq = ++estimateSeq;
    estimating.value = true;
    inFlight = true;
    try {
      const e = await getApi().estimate({ config: asked });
      if (seq !== estimateSeq) return;
      estimate.value = e;
      estimatedKey = key;
      estimateError.value = null;
      if (choice) return;
      const chosen = await o.seeds.consider(
        c,
        (more) => getApi().estimate({ config: more }),
        () => seq === estimateSeq
      );
      const draft = o.draft.value;
      if (chosen && draft) {
        // The answer for the switched draft is already here: kept, so the draft's change asks nothing.
        const { name: _n, ...next } = chosen.config;
        estimate.value = chosen.estimate;
        estimatedKey = JSON.stringify(next);
        draft.seeds = chosen.config.seeds;
        o.texts.value.seeds = String(chosen.config.seeds);
      }
    } catch (err) {
      if (seq === estimateSeq) estimateError.value = errorMessage(err);
    } finally {
      inFlight = false;
      if (seq === estimateSeq) estimating.value = false;
      if (again) {
        again = false;
        void refreshEstimate();
      }
    }
  }

  /** Drops a pending estimate request (nothing in flight is interrupted). */
  function cancelEstimate(): void {
    if (estimateTimer) clearTimeout(estimateTimer);
    estimateTimer = null;
    again = false;
  }

  // A dataset that appears (the demo data finished, an import) makes a failed estimate worth asking again.
  watch(
    () => o.datasets.list.map((d) => d.id).join(','),
    () => {
      if (o.valid.value && (estimateError.value || !estimate.value)) void refreshEstimate();
    }
  );

  // The draft, and with an ONNX network its choice and the host's verdict on it (valid once described).
  watch(
    [o.draft, o.onnxChoice, o.valid],
    () => {
      if (estimateTimer) clearTimeout(estimateTimer);
      if (!o.valid.value) {
        estimateSeq++;
        estimating.value = false;
        return;
      }
      estimateTimer = setTimeout(() => void refreshEstimate(), ESTIMATE_DELAY_MS);
    },
    { deep: true }
  );

  return { estimate, estimateError, estimating, refreshEstimate, cancelEstimate };
}
