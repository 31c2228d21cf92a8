/*
 * The app's side of the cluster (KdApi): its settings in the workspace's cluster.json (owner-only
 * file; the Redis password is never sent back to a page, '***' keeps the stored one), checked
 * against the servers before they are saved enabled, and the Workers panel's view: each worker's
 * heartbeat and the queue's counts.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { ClusterAppSettingsSchema, type ClusterAppSettings, type WorkersView } from '../../common/cluster';
import { parseWith } from '../../common/schema';
import { RequestError } from '../../common/errors';
import { writeFileAtomic } from '../../engine/store/atomic';
import { checkRedis, describeRedis, queueName, readBeats, redisConnection } from './redis';
import { checkStore, openStore } from './store';

const EMPTY: ClusterAppSettings = { enabled: false, redis: '', store: '' };

export const clusterSettingsFile = (workspace: string): string => join(workspace, 'cluster.json');

/** The stored settings (defaults when there are none); a bad file names itself. */
export async function readClusterSettings(workspace: string): Promise<ClusterAppSettings> {
  const file = clusterSettingsFile(workspace);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch {
    return EMPTY;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${file}: not JSON`);
  }
  return parseWith(ClusterAppSettingsSchema, value, file);
}

/** The password replaced by '***' (what a page may see). */
const masked = (s: ClusterAppSettings): ClusterAppSettings => ({ ...s, redis: s.redis ? describeRedis(s.redis) : '' });

function keepPassword(next: string, stored: string): string {
  if (!next.includes(':***@') || !stored) return next;
  try {
    const u = new URL(next);
    u.password = new URL(stored).password;
    return u.toString().replace(/\/$/, '');
  } catch {
    return next;
  }
}

export function createClusterApi(o: { workspace: string; version: string }) {
  let live: { url: string; client: Redis; queue: Queue } | null = null;
  const connect = (url: string): { client: Redis; queue: Queue } => {
    if (live?.url === url) return live;
    live?.client.disconnect();
    void live?.queue.close().catch(() => undefined);
    const client = redisConnection(url);
    client.on('error', () => undefined);
    live = { url, client, queue: new Queue(queueName(o.version), { connection: client }) };
    return live;
  };
  return {
    async getClusterSettings(): Promise<ClusterAppSettings> {
      return masked(await readClusterSettings(o.workspace));
    },
    async setClusterSettings(request: ClusterAppSettings): Promise<ClusterAppSettings> {
      const stored = await readClusterSettings(o.workspace);
      const next: ClusterAppSettings = { ...request, redis: keepPassword(request.redis, stored.redis) };
      if (next.enabled) {
        if (!next.redis || !next.store) throw new RequestError('a cluster needs both a Redis URL and a store');
        try {
          await checkRedis(next.redis);
          await checkStore(openStore(next.store));
        } catch (err) {
          throw new RequestError((err as Error).message, 409);
        }
      }
      const file = clusterSettingsFile(o.workspace);
      await writeFileAtomic(file, JSON.stringify(next, null, 2) + '\n');
      await fs.chmod(file, 0o600);
      return masked(next);
    },
    async listWorkers(): Promise<WorkersView> {
      const s = await readClusterSettings(o.workspace);
      const view: WorkersView = {
        configured: Boolean(s.redis),
        enabled: s.enabled,
        error: null,
        workers: [],
        queue: null,
        version: o.version
      };
      if (!s.redis) return view;
      const { client, queue } = connect(s.redis);
      try {
        const timeout = new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error(`Redis at ${describeRedis(s.redis)} did not answer in 3 s`)), 3000).unref()
        );
        view.workers = await Promise.race([readBeats(client), timeout]);
        const c = await Promise.race([queue.getJobCounts('waiting', 'active', 'failed', 'delayed'), timeout]);
        view.queue = { waiting: c.waiting ?? 0, active: c.active ?? 0, failed: c.failed ?? 0, delayed: c.delayed ?? 0 };
      } catch (err) {
        view.error = (err as Error).message;
      }
      return view;
    }
  };
}
