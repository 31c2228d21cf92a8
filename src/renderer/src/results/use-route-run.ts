/*
 * Which run the Results and Inspector views show: the route's ?run= (followed into the results store
 * whenever it changes), else, when the view opens with none, the first run that has metrics (or the
 * first run), written into the route. A composable of those two views; no state of its own.
 */
import { watch } from 'vue';
import { route, replaceParams } from '../router';
import { useExperimentsStore } from '../stores/experiments';
import { useResultsStore } from '../stores/results';

export function useRouteRun(): { choose: (run: string) => void; showDefaultRun: () => Promise<void> } {
  const results = useResultsStore();
  const experiments = useExperimentsStore();

  watch(
    () => route.params.run,
    (run) => {
      if (run && run !== results.selectedId) void results.select(run);
    },
    { immediate: true }
  );

  /** Shows `run`, and puts it in the route. */
  function choose(run: string): void {
    replaceParams({ run });
    void results.select(run);
  }

  /** With no run shown or routed: the first run with metrics, else the first run (the list loaded if need be). */
  async function showDefaultRun(): Promise<void> {
    if (results.selectedId || route.params.run) return;
    if (!experiments.list.length) await experiments.load();
    const first = experiments.list.find((e) => e.hasMetrics) ?? experiments.list[0];
    if (first) choose(first.id);
  }

  return { choose, showDefaultRun };
}
