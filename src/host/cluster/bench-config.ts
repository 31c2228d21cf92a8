/* The run configuration the cluster benchmark's setup object carries (the workload is set by the bench itself). */
import { defaultConfig, mergeConfig } from '../../common/defaults';
import { RunConfigSchema, type RunConfig } from '../../common/config';

export function tinyBenchConfig(): RunConfig {
  return RunConfigSchema.parse(
    mergeConfig(defaultConfig('bench'), {
      architecture: { inputSize: 32 },
      engine: 'tfjs',
      backend: 'wasm',
      quantification: { samples: 16, steps: 10, grid: 8, mode: 'calibrated' }
    })
  );
}
