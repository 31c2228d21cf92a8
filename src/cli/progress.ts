/*
 * Terminal progress: one bar per stage with percentage, ETA and a line of text, redrawn in place on
 * a TTY (at most ~10 times a second), plain occasional lines otherwise. Writes to stderr so that
 * stdout stays clean for --json.
 */

export interface ProgressBar {
  update(fraction: number, text?: string): void;
  done(text?: string): void;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${String(s).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** A progress bar for one stage; silent when `quiet`. */
export function progressBar(
  stage: string,
  options: { quiet?: boolean; stream?: NodeJS.WriteStream } = {}
): ProgressBar {
  const stream = options.stream ?? process.stderr;
  const tty = Boolean(stream.isTTY);
  const start = Date.now();
  let lastDraw = 0;
  let lastPlain = -1;
  const draw = (fraction: number, text: string, final: boolean): void => {
    if (options.quiet) return;
    const f = Math.max(0, Math.min(1, fraction));
    const elapsed = (Date.now() - start) / 1000;
    const eta = f > 0 ? (elapsed * (1 - f)) / f : NaN;
    const pct = `${(f * 100).toFixed(0).padStart(3)}%`;
    const timing = final ? `in ${formatDuration(elapsed)}` : `ETA ${formatDuration(eta)}`;
    if (tty) {
      const width = 24;
      const filled = Math.round(f * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      stream.write(
        `\r\x1b[2K${stage.padEnd(22)} ${bar} ${pct} ${timing} ${text}`.slice(0, (stream.columns ?? 120) + 8) +
          (final ? '\n' : '')
      );
    } else {
      const decile = Math.floor(f * 10);
      if (final || decile > lastPlain) {
        lastPlain = decile;
        stream.write(`${stage}: ${pct} ${timing} ${text}\n`);
      }
    }
  };
  return {
    update(fraction, text = '') {
      const now = Date.now();
      if (now - lastDraw < 100) return;
      lastDraw = now;
      draw(fraction, text, false);
    },
    done(text = '') {
      draw(1, text, true);
    }
  };
}
