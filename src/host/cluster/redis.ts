/*
 * Redis for the cluster: connections, the checks made before anything is enqueued (reachable,
 * Redis >= 6.2, maxmemory-policy noeviction: an evicting Redis can silently drop queued jobs), the
 * queue's name (one per KD Lens version, so a worker of another version never takes a job), the
 * store URL the coordinator publishes, and the workers' heartbeats.
 */
import { Redis } from 'ioredis';
import { WorkerBeatSchema, type WorkerBeat } from '../../common/cluster';

export const WORKERS_KEY = 'kd-lens:workers';
export const STORE_KEY = 'kd-lens:store';

/** This program's version (set by the bundler; 'dev' when run from the sources). */
export function kdLensVersion(): string {
  return process.env.KD_LENS_VERSION ?? 'dev';
}

/** The BullMQ queue of one KD Lens version (BullMQ names may not contain ':'). */
export function queueName(version: string): string {
  return `kd-lens-v${version.replace(/[^A-Za-z0-9._-]/g, '_')}`;
}

/** The URL without its password, for messages. */
export function describeRedis(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(an unparsable Redis URL)';
  }
}

/** A long-lived connection as BullMQ needs it (commands wait through reconnects). */
export function redisConnection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
}

function field(info: string, name: string): string | null {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return m ? m[1].trim() : null;
}

/** Connects once and checks the server; throws a message naming the server and the problem. */
export async function checkRedis(url: string): Promise<void> {
  if (!/^rediss?:\/\//.test(url))
    throw new Error(`--redis '${describeRedis(url)}': use redis://host:port or rediss://`);
  const where = describeRedis(url);
  const client = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 5000,
    retryStrategy: () => null
  });
  let lastError: Error | null = null;
  client.on('error', (err: Error) => (lastError = err));
  try {
    try {
      await client.connect();
      await client.ping();
    } catch (err) {
      const why = (lastError ?? (err as Error)).message;
      if (/NOAUTH|WRONGPASS/.test(why))
        throw new Error(`Redis at ${where} refused the credentials (give redis://:PASSWORD@host:port): ${why}`);
      throw new Error(`cannot reach Redis at ${where}: ${why}`);
    }
    const server = await client.info('server');
    const version = field(server, 'redis_version') ?? '0';
    const [major, minor] = version.split('.').map(Number);
    if (major < 6 || (major === 6 && minor < 2))
      throw new Error(`Redis at ${where} is version ${version}; the job queue (BullMQ) needs Redis 6.2 or newer`);
    let policy = field(await client.info('memory'), 'maxmemory_policy');
    if (!policy) {
      const answer = (await client.config('GET', 'maxmemory-policy')) as string[];
      policy = answer[1] ?? null;
    }
    if (policy !== 'noeviction')
      throw new Error(
        `Redis at ${where} has maxmemory-policy '${policy ?? 'unknown'}'; the job queue needs 'noeviction' ` +
          `(an evicting Redis can silently drop queued jobs): set maxmemory-policy noeviction in redis.conf ` +
          `or run CONFIG SET maxmemory-policy noeviction`
      );
  } finally {
    client.disconnect();
  }
}

/** Writes one worker's heartbeat. */
export async function writeBeat(client: Redis, beat: WorkerBeat): Promise<void> {
  await client.hset(WORKERS_KEY, beat.name, JSON.stringify(beat));
}

/** Every worker's last heartbeat (malformed entries are skipped), newest first. */
export async function readBeats(client: Redis): Promise<WorkerBeat[]> {
  const all = await client.hgetall(WORKERS_KEY);
  const out: WorkerBeat[] = [];
  for (const raw of Object.values(all)) {
    try {
      const parsed = WorkerBeatSchema.safeParse(JSON.parse(raw));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // not JSON: not ours
    }
  }
  return out.sort((a, b) => b.lastSeen.localeCompare(a.lastSeen));
}
