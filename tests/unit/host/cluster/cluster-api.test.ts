/* The app's cluster settings and Workers view against a real Redis (Debian's redis-server). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { tempDir } from '../../../helpers/fixtures';
import { startRedis, freePort, type RedisServer } from '../../../helpers/redis-server';
import { createClusterApi, readClusterSettings } from '../../../../src/host/cluster/cluster-api';
import { writeBeat } from '../../../../src/host/cluster/redis';
import { RequestError } from '../../../../src/common/errors';

const tmp = tempDir('kd-lens-cluster-api-');
let redis: RedisServer;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
  tmp.cleanup();
});

describe('cluster settings and the Workers view', () => {
  it('saves checked settings owner-only and never sends the password back', async () => {
    const api = createClusterApi({ workspace: tmp.path, version: '1.0.0' });
    expect(await api.getClusterSettings()).toEqual({ enabled: false, redis: '', store: '' });
    const url = redis.url.replace('redis://', 'redis://:s3cret@');
    const saved = await api.setClusterSettings({ enabled: false, redis: url, store: join(tmp.path, 'store') });
    expect(saved.redis).toBe(`redis://:***@127.0.0.1:${redis.port}`);
    expect(statSync(join(tmp.path, 'cluster.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(tmp.path, 'cluster.json'), 'utf8')).redis).toContain(':s3cret@');
    // Sending the masked URL back keeps the stored password.
    await api.setClusterSettings({ ...saved, store: join(tmp.path, 'store2') });
    expect((await readClusterSettings(tmp.path)).redis).toContain(':s3cret@');
    const ok = await api.setClusterSettings({ enabled: true, redis: redis.url, store: join(tmp.path, 'store') });
    expect(ok.enabled).toBe(true);
  });

  it('refuses to enable an unreachable cluster (409, the server named) and keeps the old settings', async () => {
    const api = createClusterApi({ workspace: tmp.path, version: '1.0.0' });
    const port = await freePort();
    const attempt = api.setClusterSettings({ enabled: true, redis: `redis://127.0.0.1:${port}`, store: tmp.path });
    await expect(attempt).rejects.toBeInstanceOf(RequestError);
    await expect(attempt).rejects.toThrow(new RegExp(`cannot reach Redis at redis://127.0.0.1:${port}`));
    expect((await readClusterSettings(tmp.path)).redis).toBe(redis.url);
  });

  it("lists the workers' heartbeats and the queue's counts", async () => {
    const api = createClusterApi({ workspace: tmp.path, version: '1.0.0' });
    const client = new Redis(redis.url);
    await writeBeat(client, {
      name: 'w1',
      version: '1.0.0',
      machine: 'lab-a',
      device: 'gpu',
      engine: 'onnx',
      concurrency: 2,
      job: 'exp S/epoch-1#0',
      imageStepsPerSecond: 120.5,
      jobsDone: 3,
      lastSeen: new Date().toISOString(),
      state: 'running'
    });
    await client.hset('kd-lens:workers', 'junk', '{not json');
    client.disconnect();
    const view = await api.listWorkers();
    expect(view.error).toBeNull();
    expect(view.workers.map((w) => [w.name, w.machine, w.job, w.imageStepsPerSecond])).toEqual([
      ['w1', 'lab-a', 'exp S/epoch-1#0', 120.5]
    ]);
    expect(view.queue).toEqual({ waiting: 0, active: 0, failed: 0, delayed: 0 });
  });
});
