/*
 * The coordinator's side of training on a cluster: one job per seed index (the student's two
 * stages and the baseline, independent across seeds), each trained by a worker from the teacher's
 * final model and the training images in the store. Its result object lists the files it put
 * under models/<S-r>/ and models/<B-r>/; they are copied into the experiment folder and the stages
 * marked done in state.json, as if trained here. Jobs that fail for good are reported together.
 */
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { ExperimentEventSchema } from '../../common/events';
import { SeedResultSchema, type SeedJob } from '../../common/cluster';
import { parseWith } from '../../common/schema';
import { writeFileAtomic } from '../../engine/store/atomic';
import { netId } from '../../engine/experiment/paths';
import type { SeedTrainer } from '../../engine/experiment/runner';
import { kdLensVersion, queueName, redisConnection } from './redis';
import { RunStore } from './store';
import { encodeData, encodeSetup } from './codec';
import { enqueueOnce, uploadModel, type CoordinatorOptions } from './coordinator';

export function clusterSeedTrainer(o: CoordinatorOptions): SeedTrainer {
  const version = o.version ?? kdLensVersion();
  return async ({ ctx, seeds }) => {
    const run = new RunStore(o.store, o.experimentId);
    const connection = redisConnection(o.redis);
    connection.on('error', (err) => o.log('warn', `redis: ${err.message}`));
    const queue = new Queue(queueName(version), { connection });
    const eventsConnection = redisConnection(o.redis);
    eventsConnection.on('error', () => undefined);
    const events = new QueueEvents(queueName(version), { connection: eventsConnection });
    // A worker's training progress, epochs and stage starts, shown as a local run's.
    const onProgress = ({ jobId, data }: { jobId: string; data: unknown }): void => {
      if (!jobId.startsWith(`${o.experimentId}.seed.`)) return;
      const parsed = ExperimentEventSchema.safeParse((data as { event?: unknown })?.event);
      if (parsed.success && parsed.data.type !== 'concepts') ctx.emit(parsed.data);
    };
    events.on('progress', onProgress);
    try {
      await uploadModel(run, ctx.paths.final('T'), 'models/T/final');
      const data = encodeData(ctx.target);
      if (!(await run.exists(data.key))) await run.put(data.key, data.bytes);
      const setup = encodeSetup(ctx.config, []);
      if (!(await run.exists(setup.key))) await run.put(setup.key, setup.bytes);
      const jobs = new Map(seeds.map((r) => [`${o.experimentId}.seed.${r}`, r]));
      const job = (jobId: string): SeedJob => ({
        kind: 'train-seed',
        version,
        run: o.experimentId,
        seed: jobs.get(jobId)!,
        setup: setup.key,
        data: data.key,
        teacher: 'models/T/final',
        result: `seeds/${jobs.get(jobId)!}.json`
      });
      for (const jobId of jobs.keys())
        if (!(await run.exists(job(jobId).result)))
          await enqueueOnce(queue, { name: 'train-seed', jobId, data: job(jobId) });
      o.log('info', `cluster: training ${seeds.length} seed${seeds.length === 1 ? '' : 's'} on the workers`);
      const pending = new Set(jobs.keys());
      const failed = new Map<string, string>();
      let lastAudit = 0;
      while (pending.size > failed.size) {
        for (const jobId of [...pending]) {
          const bytes = await run.get(job(jobId).result);
          if (!bytes) continue;
          await gather(jobs.get(jobId)!, bytes);
          pending.delete(jobId);
          failed.delete(jobId);
        }
        if (Date.now() - lastAudit > 2000) {
          lastAudit = Date.now();
          for (const jobId of pending) {
            if (failed.has(jobId)) continue;
            const state = await queue.getJobState(jobId);
            if (state === 'failed') {
              const why = (await queue.getJob(jobId))?.failedReason ?? 'failed';
              failed.set(jobId, why);
              o.log('warn', `cluster job seed ${jobs.get(jobId)} failed: ${why}`);
            } else if (state === 'unknown' && !(await run.exists(job(jobId).result))) {
              await enqueueOnce(queue, { name: 'train-seed', jobId, data: job(jobId) });
            }
          }
        }
        if (pending.size > failed.size) await new Promise((r) => setTimeout(r, o.pollMs ?? 250));
      }
      if (failed.size)
        throw new Error(
          `${failed.size} of ${seeds.length} seed jobs failed:\n${[...failed].map(([id, why]) => `  seed ${jobs.get(id)}: ${why}`).join('\n')}`
        );
    } finally {
      events.off('progress', onProgress);
      await events.close().catch(() => undefined);
      await queue.close().catch(() => undefined);
      connection.disconnect();
      eventsConnection.disconnect();
    }

    async function gather(r: number, bytes: Uint8Array): Promise<void> {
      const origin = run.key(`seeds/${r}.json`);
      let value: unknown;
      try {
        value = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        throw new Error(`${origin}: not JSON`);
      }
      const doc = parseWith(SeedResultSchema, value, origin);
      const allowed = [`models/${netId('S', r)}/`, `models/${netId('B', r)}/`];
      for (const file of doc.files) {
        if (!allowed.some((a) => file.startsWith(a))) throw new Error(`${origin}: file ${file} is not of seed ${r}`);
        const content = await run.get(file);
        if (!content) throw new Error(`${origin}: ${run.key(file)} is missing from the store`);
        await writeFileAtomic(join(ctx.paths.root, ...file.split('/')), content);
      }
      for (const s of doc.stages) {
        await ctx.state.mark(s.name, 'done', { seconds: s.seconds });
        ctx.emit({ type: 'stage', stage: s.name, status: 'done', seconds: s.seconds, message: `on ${doc.worker}` });
      }
    }
  };
}
