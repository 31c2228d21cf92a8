/*
 * Entry of the `kd-lens` command: finds the subcommand, parses its flags, runs it, and turns every
 * error into one readable line on stderr and a non-zero exit code.
 */
import { parseArgs, formatFlags, UsageError } from './args';
import type { Command } from './command';
import { quantifyCommand } from './commands/quantify';
import { benchCommand } from './commands/bench';
import { runCommand } from './commands/run';
import { analyseCommand } from './commands/analyse';
import { demoCommand } from './commands/demo';
import { reportCommand } from './commands/report';
import { serveCommand } from './commands/serve';
import { importCommand } from './commands/import';
import { datasetsCommand } from './commands/datasets';
import { workerCommand } from './commands/worker';
import { benchClusterCommand } from './commands/bench-cluster';

export const COMMANDS: Command[] = [
  demoCommand,
  runCommand,
  analyseCommand,
  reportCommand,
  serveCommand,
  importCommand,
  datasetsCommand,
  quantifyCommand,
  benchCommand,
  workerCommand,
  benchClusterCommand
];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'kd-lens — explain knowledge distillation by quantifying the knowledge in networks',
    '',
    'usage: kd-lens <command> [options]    (kd-lens <command> --help for its options)',
    '       --verbose with any command also shows what the GPU probe (Dawn, Mesa) prints',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    ''
  ].join('\n');
}

export async function main(args: readonly string[]): Promise<number> {
  // --verbose, with any command: also show what the engines' libraries print (Dawn's GPU probe).
  const argv = args.filter((a) => a !== '--verbose');
  if (argv.length < args.length) process.env.KD_LENS_VERBOSE = '1';
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(mainHelp());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write(`${process.env.KD_LENS_VERSION ?? 'dev'}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`kd-lens: unknown command '${name}'\n\n${mainHelp()}`);
    return 2;
  }
  try {
    const parsed = parseArgs(rest, command.flags);
    if (parsed.flags.help) {
      process.stdout.write(`usage: ${command.usage}\n\n${command.summary}\n\n${formatFlags(command.flags)}\n`);
      return 0;
    }
    return await command.run(parsed);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `kd-lens ${name}: ${err.message}\nusage: ${command.usage}\n(kd-lens ${name} --help lists every option)\n`
      );
      return 2;
    }
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`kd-lens ${name}: error: ${message}\n`);
    if (process.env.KD_LENS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}
