/*
 * `--redis URL --store URL` on `kd-lens run` and `demo` (or a `cluster` section in the run's
 * configuration file): checks both servers before anything is created or enqueued, so a typo
 * leaves no experiment folder behind.
 */
import type { FlagSpec, FlagValues } from './args';
import { UsageError } from './args';
import { ClusterSettingsSchema, type ClusterSettings } from '../common/cluster';
import { parseWith } from '../common/schema';
export { connectCluster } from '../host/cluster/coordinator';

export const CLUSTER_FLAGS: Record<string, FlagSpec> = {
  redis: {
    type: 'string',
    value: 'URL',
    help: 'run quantification on a cluster: its Redis (redis://[:password@]host:6379 or rediss:// for TLS)'
  },
  store: {
    type: 'string',
    value: 'URL',
    help: "the cluster's store: a shared folder, file:///folder or s3://bucket/prefix[?endpoint=http://minio:9000]"
  }
};

/** The cluster settings from the flags, else from a configuration's `cluster` section; null for a local run. */
export function clusterSettings(
  flags: FlagValues,
  fromConfig?: unknown,
  origin = 'configuration'
): ClusterSettings | null {
  const redis = flags.redis as string | undefined;
  const store = flags.store as string | undefined;
  if (redis !== undefined || store !== undefined) {
    if (!redis || !store)
      throw new UsageError('--redis and --store go together (the queue and the store of the cluster)');
    return parseWith(ClusterSettingsSchema, { redis, store }, '--redis/--store');
  }
  if (fromConfig === undefined || fromConfig === null) return null;
  return parseWith(ClusterSettingsSchema, fromConfig, `${origin}: cluster`);
}
