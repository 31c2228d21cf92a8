/*
 * `kd-lens worker --redis URL [--store URL] [--device cpu|gpu|auto] [--engine ...] [--concurrency N]
 * [--name NAME]`: serves a cluster until stopped (Ctrl-C or SIGTERM finish the running jobs first).
 */
import type { Command } from '../command';
import { UsageError } from '../args';
import { parseDevice } from '../../engine/onnx/runtime';
import { parseEngine } from './quantify';
import { startClusterWorker, defaultWorkerName } from '../../host/cluster/worker-node';
import { nodeSpawner, workerEntry } from '../../host/spawn';

export const workerCommand: Command = {
  name: 'worker',
  summary: "serve a cluster: take quantification jobs from Redis, run them on this machine's engine",
  usage:
    'kd-lens worker --redis URL [--store URL] [--device cpu|gpu|auto] [--engine auto|onnx|tfjs] [--concurrency N] [--name NAME]',
  flags: {
    redis: {
      type: 'string',
      value: 'URL',
      help: 'the Redis of the job queue (redis:// or rediss://; password in the URL)'
    },
    store: {
      type: 'string',
      value: 'URL',
      help: "the store as this machine sees it (default: the coordinator's; folder, file:// or s3://)"
    },
    device: { type: 'string', value: 'cpu|gpu|auto', help: "this machine's device (default: each run's)" },
    engine: {
      type: 'string',
      value: 'auto|onnx|tfjs',
      help: "this machine's quantification engine (default: each run's)"
    },
    concurrency: { type: 'integer', value: 'N', help: 'jobs at once, one engine process each', default: 1 },
    name: { type: 'string', value: 'NAME', help: 'name in the Workers panel (default: host-pid)' },
    'stall-seconds': {
      type: 'integer',
      value: 'S',
      help: "seconds after which a silent worker's job is retried elsewhere",
      default: 30
    }
  },
  async run({ flags }) {
    const redis = flags.redis as string | undefined;
    if (!redis) throw new UsageError('--redis is required');
    const concurrency = flags.concurrency as number;
    if (concurrency < 1 || concurrency > 64) throw new UsageError('--concurrency: between 1 and 64');
    const stall = flags['stall-seconds'] as number;
    if (stall < 2) throw new UsageError('--stall-seconds: at least 2');
    const worker = await startClusterWorker({
      redis,
      store: flags.store as string | undefined,
      device: flags.device !== undefined ? parseDevice(flags.device as string, '--device') : undefined,
      engine: flags.engine !== undefined ? parseEngine(flags.engine as string) : undefined,
      concurrency,
      name: (flags.name as string | undefined) ?? defaultWorkerName(),
      stallSeconds: stall,
      spawn: nodeSpawner(workerEntry()),
      log: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`)
    });
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.stderr.write('stopping: finishing the running jobs…\n');
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await worker.close();
    return 0;
  }
};
