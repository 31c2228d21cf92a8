/*
 * A network whose analysed images were all removed before its numbers (a dead tap makes every
 * image "not effective", sigma_f2 = 0): its N_fg, N_bg, ratio, D and rho of 0 are not measurements,
 * and a test of student against baseline on 0 images ("0 of 0 images, p = 1.000") is no test. The
 * app's tables, the runs table and the HTML report say "—" with this reason instead.
 */
import { ROLES, type MetricsDocument, type Role } from './metrics';

/** Why a network's image numbers are empty ("no analysed image entered the numbers: 24 not effective …"); null when some image did. */
export function noImagesReason(m: MetricsDocument, role: Role): string | null {
  if (m.summary[role].images > 0) return null;
  const net = ROLES.find((r) => r.role === role)!.net;
  const removed = m.networks[net]?.removed;
  const parts = removed
    ? [
        removed.notEffective ? `${removed.notEffective} not effective (sigma_f2 = 0)` : '',
        removed.noForeground ? `${removed.noForeground} without foreground` : '',
        removed.backgroundFilter ? `${removed.backgroundFilter} by the background filter` : ''
      ].filter(Boolean)
    : [];
  return `no analysed image entered the numbers${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

/** Why the verdicts were not tested ("the student has no analysed images (…)"); null when they were. */
export function untestedVerdict(m: MetricsDocument): string | null {
  const empty = (['student', 'baseline'] as const).filter((r) => noImagesReason(m, r));
  if (empty.length === 0) return null;
  return `the ${empty.join(' and the ')} ${empty.length > 1 ? 'have' : 'has'} no analysed images (${empty.map((r) => noImagesReason(m, r)).join('; ')}).`;
}
