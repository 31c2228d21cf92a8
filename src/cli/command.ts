/* The shape of one `kd-lens` subcommand. */
import type { FlagSpec, Parsed } from './args';

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Returns the exit code. Throw UsageError for bad flags, Error for everything else. */
  run(args: Parsed): Promise<number>;
}
