/*
 * The colours of KD Lens's figures, shared by the app (its light theme) and the HTML report so
 * that both tell the same story: teacher, student and baseline (Okabe-Ito, readable by colour-blind
 * readers), a lighter shade for a network's second stage, and the two concept colours (foreground,
 * background). Runtime-neutral.
 */
export const NET_COLOURS = { T: '#009e73', S: '#0072b2', B: '#d55e00' } as const;
export const CONCEPT_COLOURS = { foreground: '#e6007e', background: '#00b7ff' } as const;

/** `hex` mixed with white by `amount` (0 = unchanged, 1 = white), as #rrggbb. */
export function lighter(hex: string, amount = 0.45): string {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  if (!m) return hex;
  const mix = (c: string): string =>
    Math.round(parseInt(c, 16) + (255 - parseInt(c, 16)) * amount)
      .toString(16)
      .padStart(2, '0');
  return `#${mix(m[1])}${mix(m[2])}${mix(m[3])}`;
}

/** The student's stage 1 regresses features (a loss of another kind and scale than cross-entropy). */
export const isFeatureStage = (net: string, stage: string): boolean => net.startsWith('S') && /stage ?1/.test(stage);
