/*
 * The Inspector's clicked cell: its facts in each column's shown maps (H_i, H̄ − H_i, concept or not),
 * whether it lies on the foreground, and its entropy at every checkpoint of the student and the
 * baseline (maps cached by the results store). Cleared when the image changes.
 */
import { computed, ref, watch, type Ref } from 'vue';
import type { CheckpointMaps, InspectorImage } from '../../../common/api';
import { errorMessage } from '../api';
import { useResultsStore } from '../stores/results';
import { cellCourse, cellFacts, type CellCourse } from './cell';
import { NETS, type CheckpointRef, type Net } from './logic';

export function useCell(o: {
  id: Ref<string | null>;
  imageIndex: Ref<number | null>;
  image: Ref<InspectorImage | null>;
  maps: Ref<Record<Net, CheckpointMaps | null>>;
  lists: Ref<Record<Net, CheckpointRef[]>>;
  netOf: (n: Net) => string;
}) {
  const results = useResultsStore();
  const cell = ref<number | null>(null);
  const course = ref<{ S: CellCourse[]; B: CellCourse[] } | null>(null);
  const courseError = ref<string | null>(null);

  const facts = computed(() =>
    cell.value === null || !o.image.value
      ? []
      : NETS.map((n) => ({ n, f: cellFacts(o.maps.value[n], o.image.value!.index, cell.value!) }))
  );
  const cellIsForeground = computed(() =>
    cell.value !== null && o.image.value ? o.image.value.foreground[cell.value] === 1 : null
  );

  /** The clicked cell's entropy at every checkpoint of S and B. */
  async function pickCell(k: number): Promise<void> {
    cell.value = k;
    course.value = null;
    courseError.value = null;
    const run = o.id.value;
    const img = o.image.value;
    if (!run || !img) return;
    try {
      const [S, B] = await Promise.all(
        (['S', 'B'] as const).map(async (n) =>
          cellCourse(
            await Promise.all(o.lists.value[n].map((cp) => results.getMaps(run, o.netOf(n), cp.key))),
            img.index,
            k
          )
        )
      );
      if (cell.value === k && o.image.value === img) course.value = { S, B };
    } catch (err) {
      courseError.value = errorMessage(err);
    }
  }
  watch(o.imageIndex, () => {
    cell.value = null;
    course.value = null;
  });

  return { cell, course, courseError, facts, cellIsForeground, pickCell };
}
