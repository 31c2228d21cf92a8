/*
 * `kd-lens bench-cluster [--redis URL] [--jobs N] [--processes P] [--concurrency C]`: the queue and
 * store overhead of quantification on the cluster against the local pool of 2, and the coordinator's
 * capacity in no-op jobs per second. Without --redis it starts a scratch redis-server.
 */
import type { Command } from '../command';
import { checkRedis } from '../../host/cluster/redis';
import { initBackend } from '../../engine/tf/backend';
import { capacity, queueOverhead, scratchRedis } from '../../host/cluster/bench';

export const benchClusterCommand: Command = {
  name: 'bench-cluster',
  summary: 'measure the cluster on this machine: queue+store overhead per job, coordinator capacity (jobs/s)',
  usage: 'kd-lens bench-cluster [--redis URL] [--jobs N] [--processes P] [--concurrency C] [--json]',
  flags: {
    redis: { type: 'string', value: 'URL', help: 'a Redis to use (default: a scratch redis-server on a free port)' },
    jobs: { type: 'integer', value: 'N', help: 'no-op jobs for the capacity run', default: 10000 },
    processes: { type: 'integer', value: 'P', help: 'worker processes for the capacity run', default: 5 },
    concurrency: { type: 'integer', value: 'C', help: 'no-op jobs at once per worker process', default: 10 },
    json: { type: 'boolean', help: 'print one JSON object' }
  },
  async run({ flags }) {
    const json = Boolean(flags.json);
    const say = (s: string): void => {
      if (!json) process.stderr.write(s + '\n');
    };
    await initBackend('wasm'); // builds the benchmark's model here
    const scratch = flags.redis ? null : await scratchRedis();
    const redis = (flags.redis as string | undefined) ?? scratch!.url;
    await checkRedis(redis);
    const env = { redis, cli: process.argv[1], say };
    try {
      say('quantification: local pool of 2 against 2 cluster workers (reference CNN 32 px, 12 tasks of 4 images)');
      const q = await queueOverhead(env, 2);
      const perJobMs = ((q.cluster - q.local) * 1000) / q.tasks;
      const percent = ((q.cluster - q.local) / q.local) * 100;
      say(`  overhead: ${perJobMs.toFixed(0)} ms per job, ${percent.toFixed(1)} % in total`);
      const o = {
        jobs: flags.jobs as number,
        processes: flags.processes as number,
        concurrency: flags.concurrency as number
      };
      say(`capacity: ${o.jobs} no-op jobs, ${o.processes} worker processes x ${o.concurrency} slots`);
      const rate = await capacity(env, o);
      say(`  ${rate.toFixed(0)} jobs/s`);
      if (json)
        process.stdout.write(
          JSON.stringify({ quantify: { ...q, perJobMs, percent }, capacity: { ...o, jobsPerSecond: rate } }) + '\n'
        );
      return 0;
    } finally {
      scratch?.stop();
    }
  }
};
