/*
 * The teacher T of the protocol: pretrained on a source set (or loaded from given weights), then fine-tuned
 * on the target set with its classifier replaced when the classes differ. Its final model is what the
 * students regress; the experiment probe also starts from given weights through copyWeights.
 */
import type * as tf from '@tensorflow/tfjs';
import { buildNetwork } from '../models/architectures';
import { loadLayersModelFromDir } from '../store/model-files';
import { hashSeed } from '../util/random';
import { appendLogs, labelsObjective, run, saveModel, stage, type NetworkContext } from './stage-run';

/** Copies weights layer by layer by name; `skip` layers keep their own. */
export function copyWeights(from: tf.LayersModel, to: tf.LayersModel, skip: Set<string>): void {
  for (const layer of to.layers) {
    if (skip.has(layer.name) || layer.weights.length === 0) continue;
    let src: tf.layers.Layer;
    try {
      src = from.getLayer(layer.name);
    } catch {
      throw new Error(
        `the pretrained teacher has no layer '${layer.name}'; it must have the experiment's architecture`
      );
    }
    const w = src.getWeights();
    const shapes = layer.getWeights().map((x) => x.shape.join('x'));
    if (w.map((x) => x.shape.join('x')).join() !== shapes.join())
      throw new Error(
        `pretrained layer '${layer.name}' has weights ${w.map((x) => x.shape.join('x')).join(', ')}; expected ${shapes.join(', ')}`
      );
    layer.setWeights(w);
  }
}

/** Trains (or reloads) the teacher; returns its final model. */
export async function teacher(ctx: NetworkContext): Promise<tf.LayersModel> {
  const { config, paths } = ctx;
  const T = 'T';
  const arch = config.architecture;
  const seed = hashSeed(config.seed, 0x7e);
  if (config.teacher.source && !config.teacher.pretrained && config.teacher.pretrain.epochs > 0) {
    const source = ctx.source!;
    await stage(ctx, 'teacher pretrain', async () => {
      const model = buildNetwork(arch, source.classes.length, seed, 'teacher_pretrain');
      const result = await run(ctx, {
        net: T,
        stage: 'teacher pretrain',
        model,
        config: config.teacher.pretrain,
        objective: labelsObjective(source.classes.length),
        trainable: model.trainableWeights,
        data: source,
        seed
      });
      await appendLogs(ctx, T, result.logs);
      await saveModel(model, paths.stage(T, 'pretrained-model'), config, { net: T, stage: 'pretrain' });
      model.dispose();
    });
  }
  await stage(ctx, 'teacher finetune', async () => {
    const classes = ctx.target.classes.length;
    const model = buildNetwork(arch, classes, seed, 'teacher');
    const pretrainedDir =
      config.teacher.pretrained ??
      (config.teacher.source && config.teacher.pretrain.epochs > 0 ? paths.stage(T, 'pretrained-model') : null);
    if (pretrainedDir) {
      const pre = await loadLayersModelFromDir(pretrainedDir);
      const preClasses = pre.getLayer('fc3').getWeights()[1]?.shape[0];
      const sameHead =
        preClasses === classes && (!ctx.source || ctx.source.classes.join('\n') === ctx.target.classes.join('\n'));
      copyWeights(pre, model, sameHead ? new Set() : new Set(['fc3']));
      pre.dispose();
    }
    const result = await run(ctx, {
      net: T,
      stage: 'teacher finetune',
      model,
      config: config.teacher.finetune,
      objective: labelsObjective(classes),
      trainable: model.trainableWeights,
      data: ctx.target,
      seed: hashSeed(seed, 1)
    });
    await appendLogs(ctx, T, result.logs);
    await saveModel(model, paths.final(T), config, { net: T, stage: 'final', epoch: config.teacher.finetune.epochs });
    model.dispose();
  });
  return loadLayersModelFromDir(paths.final(T));
}
