/*
 * How numbers, durations and fractions read on screen (tables, job panel, estimates). Pure
 * string formatting; never rounds a value that is later computed with.
 */

/** A number with `digits` decimals; '—' when it is missing or not finite. */
export function formatNumber(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const text = value.toFixed(digits);
  return /^-0\.?0*$/.test(text) ? text.slice(1) : text;
}

/** "mean ± std" for several seeds; '—' when the mean is missing. */
export function formatMeanStd(mean: number | null | undefined, std: number | null | undefined, digits = 3): string {
  if (mean === null || mean === undefined || !Number.isFinite(mean)) return '—';
  return `${formatNumber(mean, digits)} ± ${formatNumber(std ?? null, digits)}`;
}

/** A duration for people: "45 s", "4 min 05 s", "1 h 02 min"; '—' when unknown. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** 0..1 as a whole percentage, clamped: "42 %". */
export function formatPercent(fraction: number): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  return `${Math.floor(f * 100)} %`;
}

/** A local date and time from an ISO string (the string itself when it does not parse). */
/** Said beside an estimate that no finished run on this machine has corrected yet. */
export const FIRST_ESTIMATE =
  'A first estimate from a short calibration; it refines after a run finishes on this machine.';

/**
 * A run as pickers and headers name it: "demo-vgg32-… — finished · 06/12/2026, 13:04:22 · seed 3"
 * (and what else differs from the defaults), so runs with the same name can be told apart; a run that
 * failing checks stopped early says so ("stopped by a failing check after baseline").
 */
export function runLabel(s: {
  name: string;
  status: string;
  createdAt: string;
  seed?: number;
  differs?: string;
  stoppedEarly?: { after: string; checks: string[] };
}): string {
  const seedPart = s.seed !== undefined && !(s.differs ?? '').startsWith('seed ') ? ` · seed ${s.seed}` : '';
  const stop = s.stoppedEarly
    ? ` · stopped by ${s.stoppedEarly.checks.length === 1 ? 'a failing check' : `${s.stoppedEarly.checks.length} failing checks`} after ${s.stoppedEarly.after}`
    : '';
  return `${s.name} — ${s.status}${stop} · ${formatTime(s.createdAt)}${seedPart}${s.differs ? ` · ${s.differs}` : ''}`;
}

export function formatTime(iso: string | null): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}
