/*
 * Protocol checks as early as their inputs exist (issue 20): teacher-beats-baseline once T and the
 * first B are trained, student-mimics-teacher and tap-alive right after stage 1. A failing one
 * stops the run before the costly stages when checks.stopOnFail is on (the default), recorded in
 * state.json with its advice; a resume after such a stop refuses to repeat it unless --force lets
 * it continue past the named checks. The checks themselves are checks.ts's pure functions.
 */
import type { RunConfig } from '../../common/config';
import type { ExperimentEvent } from '../../common/events';
import type { EarlyStop } from '../../common/record-schemas';
import * as C from './checks';
import type { ExperimentPaths } from './paths';
import { readDistillRecord, readTrainLog } from './record';
import type { StateStore } from './state';

export interface EarlyCheckContext {
  config: RunConfig;
  paths: ExperimentPaths;
  state: StateStore;
  emit: (e: ExperimentEvent) => void;
}

/** The run stopped on failing checks; the message carries each with its advice. */
export class EarlyStopError extends Error {
  constructor(readonly stop: EarlyStop) {
    super(stopMessage(stop));
    this.name = 'EarlyStopError';
  }
}

export function stopMessage(stop: EarlyStop): string {
  const lines = stop.checks.map((c) => `${c.message}${c.advice ? ` (advice: ${c.advice})` : ''}`);
  return `stopped after ${stop.after} by a failing protocol check (checks.stopOnFail): ${lines.join('; ')}`;
}

/** Why a resume is refused after an early stop, and what the user can do. */
export function resumeRefusal(stop: EarlyStop, id: string): string {
  return `${stopMessage(stop)}. Resuming would repeat this: change what the advice names in a new run (the Experiment view's "New run with this fix", or kd-lens run with an edited configuration), or continue past the check with: kd-lens run --resume ${id} --force`;
}

/**
 * On resume: a run stopped by a failing check continues only with `force`, which records the
 * checks as passed and clears the stop; without it, the refusal (resumeRefusal) is thrown.
 */
export async function passStop(state: StateStore, id: string, force: boolean | undefined): Promise<void> {
  const stopped = state.value.stop;
  if (!stopped) return;
  if (!force) throw new Error(resumeRefusal(stopped, id));
  await state.force(stopped.checks.map((c) => c.id));
  await state.setStop(null);
}

/** Emits the checks, and stops the run when one fails unless stopOnFail is off or a forced resume passed it. */
export async function enforce(ctx: EarlyCheckContext, after: string, checks: readonly C.Check[]): Promise<void> {
  for (const c of checks)
    ctx.emit({
      type: 'log',
      level: c.status === 'ok' ? 'info' : 'warn',
      message: `check after ${after}: ${C.checkLine(c)}`
    });
  const forced = new Set(ctx.state.value.forced ?? []);
  const failing = checks.filter((c) => c.status === 'fail' && !forced.has(c.id));
  if (failing.length === 0 || !ctx.config.checks.stopOnFail) return;
  const stop: EarlyStop = {
    after,
    at: new Date().toISOString(),
    checks: failing.map((c) => ({
      id: c.id,
      ...(c.net ? { net: c.net } : {}),
      status: c.status,
      message: c.message,
      advice: c.advice
    }))
  };
  await ctx.state.setStop(stop);
  throw new EarlyStopError(stop);
}

const lastVal = (logs: { stage: string; valAccuracy: number | null }[], stage: string): number | null =>
  logs.filter((l) => l.stage === stage).at(-1)?.valAccuracy ?? null;

/** teacher-beats-baseline from the final validation accuracies in T's and B's training logs (none without a validation split). */
export async function teacherCheck(ctx: EarlyCheckContext, baselineNet: string): Promise<C.Check[]> {
  const t = lastVal(await readTrainLog(ctx.paths, 'T'), 'teacher finetune');
  const b = lastVal(await readTrainLog(ctx.paths, baselineNet), 'baseline');
  return t === null || b === null ? [] : [C.teacherBeatsBaseline(t, b)];
}

/** student-mimics-teacher and tap-alive from the student's distill.json. */
export async function studentChecks(ctx: EarlyCheckContext, net: string): Promise<C.Check[]> {
  const d = await readDistillRecord(ctx.paths, net);
  if (!d) return [];
  const out: C.Check[] = [];
  if (d.unexplained !== null) out.push(C.studentMimicsTeacher(net, d.unexplained, d.evaluatedOn === 'validation'));
  if (d.deadImages !== undefined && d.images !== undefined) out.push(C.tapAlive(net, d.deadImages, d.images));
  return out;
}
