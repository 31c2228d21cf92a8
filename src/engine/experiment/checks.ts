/*
 * Protocol checks (method.md section 8): does this run ask the paper's question at all? Each check
 * is a small pure function of numbers the run already measured, with its limit stated beside it;
 * a `fail` makes every verdict "not meaningful", a `warn` is shown beside them. Nothing here reads
 * files: check-inputs.ts gathers the inputs, so each check can be tested on hand-made numbers.
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  id: string;
  /** The network the check is about (T, S, B, S-1 ...), when it is about one. */
  net?: string;
  status: CheckStatus;
  value: number | null;
  /** The limit the value is held against; a band for concept-density. */
  limit: number | [number, number];
  message: string;
  advice: string;
}

const pct = (v: number): string => `${(100 * v).toFixed(1)} %`;

/** Fail when the teacher's validation accuracy is not above the baseline's (value: T - B). */
export function teacherBeatsBaseline(teacher: number, baseline: number): Check {
  const margin = teacher - baseline;
  const ok = margin > 0;
  return {
    id: 'teacher-beats-baseline',
    status: ok ? 'ok' : 'fail',
    value: margin,
    limit: 0,
    message: ok
      ? `the teacher (${pct(teacher)}) beats the baseline (${pct(baseline)}) on validation data`
      : `the teacher is weaker than the baseline: ${pct(teacher)} against ${pct(baseline)} validation accuracy`,
    advice: ok
      ? ''
      : 'fine-tune the teacher longer, pretrain it on a larger or closer source set, or start from a pretrained teacher'
  };
}

/** The limit of student-mimics-teacher: the share of the teacher feature's variance that stage 1 may leave unexplained. */
export const MIMIC_LIMIT = 0.5;

/** At or above this share unexplained the student reproduces none of the teacher feature (no better than its mean). */
export const MIMIC_FAIL = 1;

/**
 * Warn when stage 1 leaves more than half of the teacher feature's variance unexplained, fail when it
 * leaves all of it (value: 1 - R^2).
 */
export function studentMimicsTeacher(net: string, unexplained: number, onValidation: boolean): Check {
  const ok = Number.isFinite(unexplained) && unexplained <= MIMIC_LIMIT;
  const none = Number.isFinite(unexplained) && unexplained >= MIMIC_FAIL;
  const where = onValidation ? 'validation' : 'training';
  return {
    id: 'student-mimics-teacher',
    net,
    status: ok ? 'ok' : none ? 'fail' : 'warn',
    value: Number.isFinite(unexplained) ? unexplained : null,
    limit: MIMIC_LIMIT,
    message: `stage 1 leaves ${Number.isFinite(unexplained) ? pct(unexplained) : 'all'} of the teacher feature's variance unexplained on ${where} images (1 - R^2)${ok ? '' : none ? ': the student reproduces none of the teacher feature' : ': the student does not reproduce the teacher'}`,
    advice: ok
      ? ''
      : 'train stage 1 longer or with a higher learning rate (the loss is normalised by the teacher variance), or tap a layer the student can reach'
  };
}

/** The share of images with an all-zero ReLU(f_L) above which the tap counts as dead. */
export const DEAD_TAP_LIMIT = 0.5;

/**
 * Fail when the student's tap is dead after stage 1: ReLU(f_L) is all zero on more than half of the
 * images (value: that share). Such an image has sigma_f2 = 0 and is "not effective" in every
 * quantification, so nothing could be paired; caught here, before the costly stages.
 */
export function tapAlive(net: string, dead: number, images: number): Check {
  const share = images ? dead / images : 0;
  const ok = share <= DEAD_TAP_LIMIT;
  return {
    id: 'tap-alive',
    net,
    status: ok ? 'ok' : 'fail',
    value: share,
    limit: DEAD_TAP_LIMIT,
    message: `${net}'s tap feature ReLU(f_L) is all zero on ${dead} of ${images} images after stage 1${ok ? '' : ': a dead tap (sigma_f2 = 0), those images cannot be quantified'}`,
    advice: ok
      ? ''
      : 'lower stage 1’s learning rate (or use lr "auto"), keep gradient clipping on, or tap an earlier layer'
  };
}

/** The limit of student-learns, relative to chance: accuracy must exceed 1.25 / classes. */
export const ABOVE_CHANCE = 1.25;

/** Fail when a network's validation accuracy is not clearly above chance (1 / classes). */
export function networkLearns(net: string, accuracy: number, classes: number): Check {
  const limit = ABOVE_CHANCE / classes;
  const ok = accuracy > limit;
  return {
    id: 'student-learns',
    net,
    status: ok ? 'ok' : 'fail',
    value: accuracy,
    limit,
    message: ok
      ? `${net} reaches ${pct(accuracy)} validation accuracy; chance is ${pct(1 / classes)}`
      : `${net} has not learned the task: ${pct(accuracy)} validation accuracy, chance ${pct(1 / classes)}`,
    advice: ok ? '' : 'train longer, check the learning rate, or check that the labels match the images'
  };
}

/** The band of concept-density: below 0.5 % the maps are flat, above 60 % nearly every cell is a concept. */
export const DENSITY_BAND: [number, number] = [0.005, 0.6];

/** Warn when the share of analysed cells that are concepts at the final checkpoint is outside DENSITY_BAND. */
export function conceptDensity(net: string, fraction: number): Check {
  const [low, high] = DENSITY_BAND;
  const status: CheckStatus = fraction >= low && fraction <= high ? 'ok' : 'warn';
  return {
    id: 'concept-density',
    net,
    status,
    value: fraction,
    limit: DENSITY_BAND,
    message: `${pct(fraction)} of ${net}'s analysed cells are concepts at the final checkpoint${status === 'ok' ? '' : fraction < low ? ': the maps are nearly flat' : ': almost every cell is a concept'}`,
    advice:
      status === 'ok'
        ? ''
        : fraction < low
          ? 'lower lambda or the threshold b, or use a coarser grid'
          : 'raise lambda or the threshold b, or use a finer grid'
  };
}

/** The band of foreground-coverage: the mean share of foreground cells per analysed image. */
export const COVERAGE_BAND: [number, number] = [0.05, 0.9];

/** Warn when the masks leave (almost) no background or (almost) no foreground under the run's mask rule. */
export function foregroundCoverage(shares: readonly number[], maskRule: string): Check {
  const value = shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : 0;
  const [low, high] = COVERAGE_BAND;
  const status: CheckStatus = value >= low && value <= high ? 'ok' : 'warn';
  return {
    id: 'foreground-coverage',
    status,
    value,
    limit: COVERAGE_BAND,
    message: `the masks make ${pct(value)} of an analysed image's cells foreground on average (mask rule '${maskRule}')${status === 'ok' ? '' : ': the ratio then measures little'}`,
    advice:
      status === 'ok'
        ? ''
        : value > high
          ? "use tighter masks or the 'top-left' / 'majority' mask rule"
          : "use the 'any' mask rule for thin objects, or a finer grid"
  };
}

/** The limit of never-learned: the share of images with no foreground concept at any checkpoint. */
export const NEVER_LEARNED_LIMIT = 0.25;

/** Warn when more than a quarter of a network's images never have a foreground concept (method.md section 7, first trap). */
export function neverLearned(net: string, count: number, images: number): Check {
  const share = images ? count / images : 0;
  const ok = share <= NEVER_LEARNED_LIMIT;
  return {
    id: 'never-learned',
    net,
    status: ok ? 'ok' : 'warn',
    value: share,
    limit: NEVER_LEARNED_LIMIT,
    message: `${count} of ${images} of ${net}'s images have no foreground concept at any checkpoint${ok ? '' : ': D_mean and rho are dragged towards checkpoint 0; compare the numbers without them'}`,
    advice: ok ? '' : 'train the network longer, or lower lambda so that maps have concepts'
  };
}

/** The limit of sample-size: paired images behind each test. */
export const SAMPLE_LIMIT = 20;

/** Warn when fewer than 20 images are paired between student and baseline. */
export function sampleSize(pairs: number): Check {
  const ok = pairs >= SAMPLE_LIMIT;
  return {
    id: 'sample-size',
    status: ok ? 'ok' : 'warn',
    value: pairs,
    limit: SAMPLE_LIMIT,
    message: `${pairs} images are paired between student and baseline${ok ? '' : ': too few for the tests to detect much'}`,
    advice: ok ? '' : 'analyse more images (quantification.images)'
  };
}

/** The limit of dropped-images: the share of drawn images that the filters may remove. */
export const DROPPED_LIMIT = 0.25;

/** Reports how many images each filter removed from a network; warns above a quarter of the drawn images. */
export function droppedImages(
  net: string,
  removed: {
    notEffective: number;
    noForeground: number;
    backgroundFilter: number;
  },
  drawn: number
): Check {
  const total = removed.notEffective + removed.noForeground + removed.backgroundFilter;
  const share = drawn ? total / drawn : 0;
  const ok = share <= DROPPED_LIMIT;
  return {
    id: 'dropped-images',
    net,
    status: ok ? 'ok' : 'warn',
    value: total,
    limit: Math.floor(DROPPED_LIMIT * drawn),
    message: `filters removed ${total} of ${drawn} images from ${net}: ${removed.notEffective} not effective (sigma_f2 = 0), ${removed.noForeground} without foreground, ${removed.backgroundFilter} by the background filter`,
    advice: ok
      ? ''
      : 'check the masks (no foreground cell) and the network (a dead tap feature makes images not effective)'
  };
}

/** Warns when training had to roll back after a NaN or infinite loss (value: rollbacks). */
export function trainingRecovered(rollbacks: readonly { net: string; stage: string; epoch: number }[]): Check {
  const ok = rollbacks.length === 0;
  return {
    id: 'training-diverged',
    status: ok ? 'ok' : 'warn',
    value: rollbacks.length,
    limit: 0,
    message: ok
      ? 'no training stage diverged'
      : `training rolled back ${rollbacks.length} time(s) after a NaN or infinite loss: ${rollbacks.map((r) => `${r.net} ${r.stage} epoch ${r.epoch}`).join(', ')}; the learning rate was lowered for the rest of each stage`,
    advice: ok ? '' : 'lower the learning rate of the stages named'
  };
}

/** The failing checks as one short clause, e.g. "the teacher is weaker than the baseline". */
export function failReasons(checks: readonly Check[]): string[] {
  return checks.filter((c) => c.status === 'fail').map((c) => c.message.split(':')[0]);
}

/** One line of text per check, e.g. "FAIL teacher-beats-baseline: ... (advice: ...)". */
export function checkLine(c: Check): string {
  const tag = c.status === 'ok' ? 'ok  ' : c.status === 'warn' ? 'WARN' : 'FAIL';
  return `${tag} ${c.id}${c.net ? ` [${c.net}]` : ''}: ${c.message}${c.advice ? ` (advice: ${c.advice})` : ''}`;
}
