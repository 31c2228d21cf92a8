/*
 * `kd-lens serve [--port N] [--host 127.0.0.1] [--workspace DIR] [--allowed-hosts NAMES] [--json]`: the UI for a browser
 * (or a remote GPU box through an SSH tunnel). The first line printed is the URL with its token.
 */
import { promises as fs, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from '../command';
import { resolveWorkspace } from '../../engine/store/workspace';
import { createHost } from '../../host';
import { nodeJobSpawner } from '../../host/spawn';
import { startServer } from '../../server';

export function rendererDir(): string {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  for (const c of [join(here, '..', 'renderer'), join(here, '..', '..', 'out', 'renderer'), resolve('out', 'renderer')])
    if (existsSync(join(c, 'index.html'))) return c;
  throw new Error('the UI is not built (out/renderer/index.html); run `npm run build`');
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the KD Lens UI to a browser (127.0.0.1 with a token by default)',
  usage: 'kd-lens serve [--port N] [--host 127.0.0.1] [--workspace DIR] [--json]',
  flags: {
    port: { type: 'integer', default: 0, help: 'port (0 = any free port)' },
    host: {
      type: 'string',
      default: '127.0.0.1',
      help: 'address to listen on; anything but loopback exposes the workspace to the network'
    },
    workspace: { type: 'string', value: 'DIR', help: 'workspace folder (default: per-user; env KD_LENS_WORKSPACE)' },
    token: { type: 'string', help: 'use this token instead of a random one (env KD_LENS_TOKEN)' },
    'allowed-hosts': {
      type: 'string',
      value: 'NAMES',
      help: 'comma-separated host names the browser may use besides IP addresses and localhost (e.g. a proxy)'
    },
    'no-demo': { type: 'boolean', help: 'do not generate the demo datasets on start' },
    json: { type: 'boolean', help: 'print one JSON object {url, token, port, host, workspace}' }
  },
  async run({ flags }) {
    // The last line of defence (each request handler has its own catch-all): a stray rejection is
    // logged, and the server, with the jobs it runs, keeps going.
    process.on('unhandledRejection', (err) =>
      process.stderr.write(
        `kd-lens serve: unhandled failure (still serving): ${(err as Error)?.stack ?? String(err)}\n`
      )
    );
    const workspace = resolveWorkspace(flags.workspace as string | undefined);
    await fs.mkdir(workspace, { recursive: true });
    const dir = rendererDir();
    const host = createHost({
      workspace,
      shell: 'browser',
      version: process.env.KD_LENS_VERSION ?? 'dev',
      spawnJob: nodeJobSpawner()
    });
    const server = await startServer({
      host,
      rendererDir: dir,
      hostname: flags.host as string,
      port: flags.port as number,
      token: (flags.token as string | undefined) ?? process.env.KD_LENS_TOKEN,
      allowedHosts: ((flags['allowed-hosts'] as string | undefined) ?? '')
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean)
    });
    const info = { url: server.url, token: server.token, port: server.port, host: server.hostname, workspace };
    if (flags.json) process.stdout.write(JSON.stringify(info) + '\n');
    else {
      process.stdout.write(`${server.url}\n`);
      process.stderr.write(`KD Lens is served at the URL above (workspace ${workspace}). Ctrl+C stops it.\n`);
    }
    if (!['127.0.0.1', 'localhost', '::1'].includes(server.hostname))
      process.stderr.write(
        `warning: listening on ${server.hostname}: anyone who can reach it and has the token can use this workspace\n`
      );
    void host.ready.then((b) => process.stderr.write(`backend: ${b.reason}\n`));
    if (!flags['no-demo'])
      host.service.ensureDemoData().catch((err: Error) => process.stderr.write(`demo data: ${err.message}\n`));
    await new Promise<void>((resolveStop) => {
      const stop = (): void => {
        process.stderr.write('stopping: cancelling running jobs (they can be resumed)…\n');
        resolveStop();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await host.shutdown();
    await server.close();
    // Nothing else should keep the process: leave now rather than wait on a stray handle.
    setImmediate(() => process.exit(0));
    return 0;
  }
};
