/*
 * What sets a run's configuration apart from the defaults it started from, in the settings a
 * researcher varies between otherwise equal runs: the seed and the learning rates. Three runs with
 * different seeds and stage-1 rates once got the same suggested name and could not be told apart
 * in the pickers; the suggested name now carries these tokens, and the runs table and pickers show
 * the words.
 */
import type { RunConfig } from './config';
import { defaultConfig, demoConfig } from './defaults';

interface Key {
  /** In words, for the table and pickers. */
  label: string;
  /** In a run name. */
  token: string;
  get: (c: RunConfig) => unknown;
}

const KEYS: Key[] = [
  { label: 'seed', token: 'seed', get: (c) => c.seed },
  { label: 'teacher pretrain lr', token: 'tplr', get: (c) => c.teacher?.pretrain?.lr },
  { label: 'teacher fine-tune lr', token: 'tflr', get: (c) => c.teacher?.finetune?.lr },
  { label: 'stage-1 lr', token: 's1lr', get: (c) => c.student?.stage1?.lr },
  { label: 'stage-2 lr', token: 's2lr', get: (c) => c.student?.stage2?.lr },
  { label: 'baseline lr', token: 'blr', get: (c) => c.baseline?.lr },
  { label: 'sigma lr', token: 'qlr', get: (c) => c.quantification?.lr }
];

export interface RunDifference {
  label: string;
  token: string;
  value: string;
}

/** The defaults a configuration is compared with: the demo's for the demo, else a dataset's. */
function baseFor(c: RunConfig): RunConfig {
  return c.dataset === 'demo' ? demoConfig(false) : defaultConfig(c.dataset, c.architecture?.inputSize);
}

const show = (v: unknown): string => (typeof v === 'number' ? String(Number(v.toPrecision(3))) : String(v));

/** The seed and rates that differ from the defaults, in KEYS order. */
export function runDifferences(config: RunConfig): RunDifference[] {
  const base = baseFor(config);
  // A study trains nothing: its training rates are placeholders (see shown-config.ts).
  const keys = config.study ? KEYS.filter((k) => k.token === 'seed' || k.token === 'qlr') : KEYS;
  return keys
    .filter((k) => JSON.stringify(k.get(config)) !== JSON.stringify(k.get(base)))
    .map((k) => ({
      label: k.label,
      token: k.token,
      value: show(k.get(config))
    }));
}

/** "seed 3, stage-1 lr 0.01", or '' when the run uses the defaults' seed and rates. */
export function describeDifferences(config: RunConfig): string {
  return runDifferences(config)
    .map((d) => `${d.label} ${d.value}`)
    .join(', ');
}
