/*
 * What the Inspector shows of its current image: the image with its mask, the mask's outline, and the
 * entropy and concept maps of each column's network at its shown checkpoint, loaded again whenever the
 * run, image, checkpoint or picked network changes (a later load wins over a slower earlier one), and
 * after metrics.json appears (the cached maps are forgotten then). Errors stay per column.
 */
import { ref, watch, type Ref } from 'vue';
import type { CheckpointMaps, InspectorImage } from '../../../common/api';
import { errorMessage } from '../api';
import { useResultsStore } from '../stores/results';
import { loadImage, maskPixels } from '../utils/image';
import { twoToneOutline } from '../utils/outline';
import { NETS, type CheckpointRef, type Net } from './logic';

export function useImageMaps(o: {
  id: Ref<string | null>;
  imageIndex: Ref<number | null>;
  shown: Ref<Record<Net, CheckpointRef | null>>;
  netOf: (n: Net) => string;
}) {
  const results = useResultsStore();
  const image = ref<InspectorImage | null>(null);
  const maps = ref<Record<Net, CheckpointMaps | null>>({ T: null, S: null, B: null });
  const errors = ref<Record<Net, string | null>>({ T: null, S: null, B: null });
  const imageError = ref<string | null>(null);
  const outline = ref<{ layer: Uint8Array; size: number } | null>(null);
  let seq = 0;

  watch(
    () => image.value?.mask,
    async (url) => {
      outline.value = null;
      if (!url) return;
      try {
        const img = await loadImage(url);
        const size = img.naturalWidth || img.width;
        const px = size ? maskPixels(img, size, size) : null;
        if (px && image.value?.mask === url) outline.value = { layer: twoToneOutline(px, size, size), size };
      } catch {
        outline.value = null; // no outline: the mask could not be decoded; the maps still show
      }
    }
  );

  async function load(): Promise<void> {
    const run = o.id.value;
    const k = o.imageIndex.value;
    const mine = ++seq;
    if (!run || k === null) {
      image.value = null;
      return;
    }
    const img = results.getImage(run, k).then(
      (v) => v,
      (err: unknown) => {
        if (mine === seq) imageError.value = errorMessage(err);
        return null;
      }
    );
    const got = await Promise.all(
      NETS.map(async (n) => {
        const cp = o.shown.value[n];
        if (!cp) return { map: null, error: 'not analysed yet' };
        try {
          return { map: await results.getMaps(run, o.netOf(n), cp.key), error: null };
        } catch (err) {
          return { map: null, error: errorMessage(err) };
        }
      })
    );
    const loadedImage = await img;
    if (mine !== seq) return;
    if (loadedImage) imageError.value = null;
    image.value = loadedImage;
    maps.value = { T: got[0].map, S: got[1].map, B: got[2].map };
    errors.value = { T: got[0].error, S: got[1].error, B: got[2].error };
  }

  watch(
    [
      o.id,
      o.imageIndex,
      () => o.shown.value.S?.key,
      () => o.shown.value.B?.key,
      () => o.shown.value.T?.key,
      () => o.netOf('S'),
      () => o.netOf('B')
    ],
    () => void load()
  );
  watch(
    () => results.metrics !== null,
    () => {
      if (o.id.value) results.forgetMaps(o.id.value);
      void load();
    }
  );

  return { image, maps, errors, imageError, outline, load };
}
