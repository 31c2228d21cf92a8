/*
 * The protocol checks of one experiment (checks.ts) from what its folder holds, and their effect on
 * the verdicts: a failing check makes each verdict "not meaningful: <reason>" (`meaningful: false`).
 * Used at the end of a run and when an earlier run's metrics.json (without checks) is loaded; a
 * check whose inputs a run's files lack (distill.json, the masks) is left out, not guessed.
 */
import type { RunConfig } from '../../common/config';
import type { NetworkMetrics } from './analysis';
import type { Verdicts } from './verdicts';
import type { ExperimentPaths } from './paths';
import { netId } from './paths';
import type { DistillRecord } from '../../common/record-schemas';
import { readDistillRecord, readTrainLog } from './record';
import * as C from './checks';

/** What the checks read of a network's metrics (NetworkMetrics has it all). */
export interface CheckedNetwork extends Pick<NetworkMetrics, 'images' | 'removed' | 'neverLearned'> {
  accuracy: number | null;
  perCheckpoint: { conceptFraction: number | null }[];
  perImage: { index: number }[];
}

export interface ProtocolInput {
  seeds: number;
  maskRule: string;
  /** Images drawn for the analysis. */
  drawn: number;
  networks: Record<string, CheckedNetwork>;
  /** Classes of the target set (null: unknown, student-learns is left out). */
  classes: number | null;
  /** Stage-1 records per seed (null where a run has none). */
  distill: (DistillRecord | null)[];
  /** The foreground share of cells per analysed image (null: the masks are not at hand). */
  foregroundShares: number[] | null;
  rollbacks: { net: string; stage: string; epoch: number }[];
}

const meanOf = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;

/** Every check that the inputs allow, in a fixed order. */
export function protocolChecks(input: ProtocolInput): C.Check[] {
  const out: C.Check[] = [];
  const nets = Object.keys(input.networks);
  const studentNets = Array.from({ length: input.seeds }, (_, r) => netId('S', r)).filter((n) => input.networks[n]);
  const baselineNets = Array.from({ length: input.seeds }, (_, r) => netId('B', r)).filter((n) => input.networks[n]);
  const teacherAcc = input.networks.T?.accuracy ?? null;
  const baselineAcc = baselineNets.map((n) => input.networks[n].accuracy).filter((a): a is number => a !== null);
  if (teacherAcc !== null && baselineAcc.length) out.push(C.teacherBeatsBaseline(teacherAcc, meanOf(baselineAcc)));
  input.distill.forEach((d, r) => {
    if (d && d.unexplained !== null)
      out.push(C.studentMimicsTeacher(netId('S', r), d.unexplained, d.evaluatedOn === 'validation'));
    if (d && d.deadImages !== undefined && d.images !== undefined)
      out.push(C.tapAlive(netId('S', r), d.deadImages, d.images));
  });
  if (input.classes !== null && input.classes >= 2) {
    for (const n of [...studentNets, ...baselineNets]) {
      const a = input.networks[n].accuracy;
      if (a !== null) out.push(C.networkLearns(n, a, input.classes));
    }
  }
  for (const n of nets) {
    const last = input.networks[n].perCheckpoint[input.networks[n].perCheckpoint.length - 1];
    if (last && last.conceptFraction !== null) out.push(C.conceptDensity(n, last.conceptFraction));
  }
  if (input.foregroundShares) out.push(C.foregroundCoverage(input.foregroundShares, input.maskRule));
  for (const n of [...studentNets, ...baselineNets])
    out.push(C.neverLearned(n, input.networks[n].neverLearned, input.networks[n].images));
  for (let r = 0; r < input.seeds; r++) {
    const s = input.networks[netId('S', r)];
    const b = input.networks[netId('B', r)];
    if (!s || !b) continue;
    const inB = new Set(b.perImage.map((m) => m.index));
    const check = C.sampleSize(s.perImage.filter((m) => inB.has(m.index)).length);
    out.push(input.seeds > 1 ? { ...check, net: `${netId('S', r)}/${netId('B', r)}` } : check);
  }
  for (const n of nets) out.push(C.droppedImages(n, input.networks[n].removed, input.drawn));
  out.push(C.trainingRecovered(input.rollbacks));
  return out;
}

/** Verdicts with the checks folded in: when one fails, each says so in its first words. */
export function foldChecks(verdicts: Verdicts, checks: readonly C.Check[]): Verdicts {
  const reasons = C.failReasons(checks);
  const out = {} as Verdicts;
  for (const h of ['H1', 'H2', 'H3'] as const) {
    const v = verdicts[h];
    const details = v.details.replace(/^not meaningful: [^—]*— /, '');
    out[h] = reasons.length
      ? {
          ...v,
          meaningful: false,
          details: `not meaningful: ${reasons.join('; ')} — ${details}`
        }
      : { ...v, meaningful: true, details };
  }
  return out;
}

/** The foreground share of cells of each image. */
export function foregroundShares(foreground: readonly Uint8Array[]): number[] {
  return foreground.map((f) => (f.length ? f.reduce((a, b) => a + b, 0) / f.length : 0));
}

/** Rollbacks recorded in the networks' training logs. */
export async function readRollbacks(
  paths: ExperimentPaths,
  nets: readonly string[]
): Promise<{ net: string; stage: string; epoch: number }[]> {
  const out: { net: string; stage: string; epoch: number }[] = [];
  for (const net of nets) {
    const logs = await readTrainLog(paths, net).catch(() => []); // an unreadable log is named by the views that show it
    for (const l of logs) for (const r of l.rollbacks ?? []) out.push({ net, stage: l.stage, epoch: r.epoch });
  }
  return out;
}

/** The checks' inputs that live in files: distill records and rollbacks. */
export async function fileInputs(
  config: RunConfig,
  paths: ExperimentPaths,
  nets: readonly string[]
): Promise<Pick<ProtocolInput, 'distill' | 'rollbacks'>> {
  const distill: (DistillRecord | null)[] = [];
  for (let r = 0; r < config.seeds; r++) distill.push(await readDistillRecord(paths, netId('S', r)));
  return { distill, rollbacks: await readRollbacks(paths, nets) };
}
