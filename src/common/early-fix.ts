/*
 * The fix the form offers for a run that a protocol check stopped early (checks.stopOnFail): a copy
 * of its configuration with the change each failing check's advice names, and the changes in
 * words. A teacher weaker than the baseline gets twice the fine-tuning (and, without a source set or
 * pretrained teacher, a note that one is needed: the form cannot pick it); a student that does not
 * mimic the teacher gets twice the stage-1 epochs; a dead tap gets a stage-1 rate found by a range
 * test (lr "auto") with gradient clipping on. Runtime-neutral (UI and CLI).
 */
import type { RunConfig } from './config';
import type { EarlyStop } from './record-schemas';

export interface EarlyFix {
  config: RunConfig;
  /** What changed, one line each. */
  changes: string[];
  /** What the user still has to choose (e.g. a source set). */
  todo: string[];
}

/** Default clipping when the stopped run had none. */
const FIX_CLIP = 5;

export function fixForStop(config: RunConfig, stop: EarlyStop): EarlyFix {
  const c = JSON.parse(JSON.stringify(config)) as RunConfig; // (a reactive proxy in the UI cannot be structuredClone-d)
  const changes: string[] = [];
  const todo: string[] = [];
  const ids = new Set(stop.checks.map((k) => k.id));
  if (ids.has('teacher-beats-baseline')) {
    const before = c.teacher.finetune.epochs;
    c.teacher.finetune.epochs = Math.max(1, before * 2);
    changes.push(`teacher fine-tune epochs ${before} → ${c.teacher.finetune.epochs}`);
    if (!c.teacher.source && !c.teacher.pretrained)
      todo.push('choose a source set to pretrain the teacher on, or a pretrained teacher');
    else if (c.teacher.source)
      todo.push(`or choose another source set than '${c.teacher.source}', or a pretrained teacher`);
  }
  if (ids.has('tap-alive')) {
    c.student.stage1.lr = 'auto';
    changes.push('stage 1 learning rate → "auto" (a range test picks it)');
    if (c.training.clipNorm == null) {
      c.training.clipNorm = FIX_CLIP;
      changes.push(`gradient clipping on (norm ${FIX_CLIP})`);
    }
  }
  if (ids.has('student-mimics-teacher')) {
    const before = c.student.stage1.epochs;
    c.student.stage1.epochs = Math.max(1, before * 2);
    changes.push(`stage 1 epochs ${before} → ${c.student.stage1.epochs}`);
  }
  return { config: c, changes, todo };
}
