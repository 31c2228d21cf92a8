/* `kd-lens report EXP_ID [--out FILE.html] [--workspace DIR]` */
import type { Command } from '../command';
import { UsageError } from '../args';
import { resolveWorkspace } from '../../engine/store/workspace';
import { writeReport } from '../../engine/report/html';

export const reportCommand: Command = {
  name: 'report',
  summary: 'write the self-contained HTML report of a finished experiment',
  usage: 'kd-lens report EXP_ID [--out FILE.html] [--workspace DIR]',
  flags: {
    out: { type: 'string', value: 'FILE.html', help: 'where to write it (default: experiments/<id>/report.html)' },
    workspace: { type: 'string', value: 'DIR', help: 'workspace folder' }
  },
  async run({ flags, positionals }) {
    const id = positionals[0];
    if (!id) throw new UsageError('give the experiment id');
    const file = await writeReport(
      resolveWorkspace(flags.workspace as string | undefined),
      id,
      flags.out as string | undefined
    );
    process.stdout.write(`${file}\n`);
    return 0;
  }
};
