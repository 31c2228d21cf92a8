/*
 * The two networks the protocol compares, on the shared stage runner (stage-run.ts; the teacher is teacher.ts):
 * - S: from random init, stage 1 regresses T's pre-activation feature at tap L (layers up to L),
 *      stage 2 trains the layers above L on labels with everything up to L frozen;
 * - B: from exactly S's initial weights, trained on labels.
 * S and B save TF.js checkpoints at the analysed epochs and log the path length of L's weights.
 */
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../../common/config';
import { FEATURE_ONLY, scaleCheckpoints } from '../../common/config';
import { buildNetwork, layersUpTo } from '../models/architectures';
import { tapFeature } from '../knowledge/feature';
import type { Objective } from '../training/folder-stage';
import { loadLayersModelFromDir } from '../store/model-files';
import { writeDistillRecord } from './record';
import { hashSeed } from '../util/random';
import { deadImages, featureStatistics, distillObjective } from './distill';
import {
  appendLogs,
  labelsObjective,
  run,
  runTracked,
  saveModel,
  stage,
  variablesOf,
  type NetworkContext
} from './stage-run';

/** Seed of the initial weights shared by S and B of seed index r. */
export const initSeed = (config: RunConfig, r: number): number => hashSeed(config.seed + r, 0x5b);

/** Student of seed index r: stage 1 (feature regression at the tap), stage 2 (layers above on labels). */
export async function student(
  ctx: NetworkContext,
  r: number,
  net: string,
  teacherModel: tf.LayersModel
): Promise<void> {
  const { config, paths } = ctx;
  const classes = ctx.target.classes.length;
  const epochs1 = config.student.stage1.epochs;
  const checkpoints = scaleCheckpoints(config.checkpoints, epochs1);
  const seed = hashSeed(config.seed + r, 0x51);
  await stage(ctx, `student stage 1${r ? ` (seed ${r})` : ''}`, async () => {
    const model = buildNetwork(config.architecture, classes, initSeed(config, r), 'student');
    const below = layersUpTo(model, config.tap);
    const teacherFeature = tapFeature(teacherModel, config.tap);
    const studentFeature = tapFeature(model, config.tap);
    const normalization = config.student.lossNormalization ?? 'mse';
    const teacherVariance = (await featureStatistics(ctx.target.train, teacherFeature, null)).variance;
    if (normalization === 'teacher-variance' && !(teacherVariance > 0))
      throw new Error(
        `student stage 1: the teacher's '${config.tap}' feature does not vary over the training set (variance ${teacherVariance}); the loss cannot be normalised by it`
      );
    const scale = normalization === 'teacher-variance' ? 1 / teacherVariance : 1;
    const method = config.student.method ?? FEATURE_ONLY;
    const whole = method.logits !== null || method.attention !== null;
    const objective: Objective = whole
      ? distillObjective({ student: model, teacher: teacherModel, tap: config.tap, method, classes, scale })
      : {
          kind: 'feature',
          student: studentFeature,
          teacher: teacherFeature,
          scale,
          source: { teacher: teacherModel, tap: config.tap }
        };
    await runTracked(ctx, {
      net,
      stage: 'student stage 1',
      model,
      config: config.student.stage1,
      objective,
      // The logit and attention terms reach past the tap: then stage 1 trains every layer.
      trainable: whole ? model.trainableWeights : variablesOf(model, (n) => below.has(n)),
      data: ctx.target,
      seed,
      checkpoints,
      savedAs: 'stage1'
    });
    const evalSet = ctx.target.val && ctx.target.val.n > 0 ? ctx.target.val : ctx.target.train;
    const final = await featureStatistics(evalSet, teacherFeature, studentFeature);
    const dead = await deadImages(evalSet, studentFeature);
    await writeDistillRecord(paths, {
      net,
      lossNormalization: normalization,
      teacherVariance,
      evaluatedOn: evalSet === ctx.target.val ? 'validation' : 'training',
      mse: final.mse!,
      variance: final.variance,
      unexplained: final.variance > 0 ? final.mse! / final.variance : null,
      deadImages: dead.dead,
      images: dead.images
    });
    model.dispose();
  });
  if (!ctx.state.isDone(`student stage 2${r ? ` (seed ${r})` : ''}`)) await ctx.afterStage1?.(net);
  await stage(ctx, `student stage 2${r ? ` (seed ${r})` : ''}`, async () => {
    const model = await loadLayersModelFromDir(paths.checkpoint(net, epochs1));
    const below = layersUpTo(model, config.tap);
    const above = variablesOf(model, (n) => !below.has(n));
    if (above.length > 0 && config.student.stage2.epochs > 0) {
      const result = await run(ctx, {
        net,
        stage: 'student stage 2',
        model,
        config: config.student.stage2,
        objective: labelsObjective(classes),
        trainable: above,
        data: ctx.target,
        seed: hashSeed(seed, 2)
      });
      await appendLogs(ctx, net, result.logs);
    }
    await saveModel(model, paths.final(net), config, { net, stage: 'final' });
    model.dispose();
  });
}

/** Baseline of seed index r: labels from scratch, from the student's initial weights. */
export async function baseline(ctx: NetworkContext, r: number, net: string): Promise<void> {
  const { config, paths } = ctx;
  const classes = ctx.target.classes.length;
  const checkpoints = scaleCheckpoints(config.checkpoints, config.baseline.epochs);
  await stage(ctx, `baseline${r ? ` (seed ${r})` : ''}`, async () => {
    const model = buildNetwork(config.architecture, classes, initSeed(config, r), 'baseline');
    await runTracked(ctx, {
      net,
      stage: 'baseline',
      model,
      config: config.baseline,
      objective: labelsObjective(classes),
      trainable: model.trainableWeights,
      data: ctx.target,
      seed: hashSeed(config.seed + r, 0xb0),
      checkpoints,
      savedAs: 'train'
    });
    await saveModel(model, paths.final(net), config, { net, stage: 'final' });
    model.dispose();
  });
}
