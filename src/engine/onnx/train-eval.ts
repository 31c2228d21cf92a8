/*
 * The ONNX training engine's evaluation (the per-epoch validation of a stage), on ONNX Runtime
 * instead of TF.js, so the loop need not write the engine's weights into the TF.js model to
 * evaluate them. One forward graph per stage (compile.ts's features graph of the model at its
 * logits, or at the tap for stage 1's feature objective), compiled once when the stepper opens, with
 * batch norms in inference mode (their moving statistics), dropout an Identity, and the parameters
 * the stage changes (trained weights, moving statistics that training-mode batch norms update) as
 * graph inputs, fed the ONNX Runtime tensors the stepper holds. The loss is computed here from the
 * graph's outputs as evaluate.ts computes it on TF.js (train-eval-scores.ts): the mean softmax
 * cross-entropy of the logits and the arg-max accuracy, scale * mean (f - f_teacher)^2 with the
 * teacher's features, or student.method's terms, the teacher's side from the stepper's teacher graphs.
 */
import type * as Ort from 'onnxruntime-node';
import type { Objective } from '../training/stage';
import type { IrGraph, ModelIr } from './ir';
import { compileFeatures } from './compile';
import { plan } from './emit';
import { CompileError } from './rules/rule';
import { gatherBatch, type ImageSet } from '../training/batches';
import { EVAL_BATCH, type Evaluation } from '../training/evaluate';
import type { DistillTerms } from '../training/distill-losses';
import { scoreDistill, scoreFeatures, scoreLogits, type BatchScore } from './train-eval-scores';
import { TRAIN_INPUTS, teacherAttentionInput } from './train-inputs';

/** What the evaluation graph's output is scored by. */
export type EvalLoss =
  | { kind: 'labels'; numClasses: number }
  | { kind: 'feature'; scale: number }
  /** student.method (train-eval-scores.ts): the logits, then the feature tap (when scored) and the attention layers as extra outputs. */
  | (DistillTerms & { kind: 'distill'; numClasses: number });

export interface EvalGraphRequest {
  /** The model with its batch norms in inference mode (tfjs-params.ts unfoldBatchNorms(..., false)). */
  model: ModelIr;
  /** The layer whose output is scored: the logits (labels) or the tap (feature objective). */
  output: string;
  /** Layers whose values are further outputs, in this order ([N, C, H, W] or [N, E] as computed). */
  extra?: readonly string[];
  /** Initializers the stage changes: graph inputs instead of constants. */
  fed: readonly string[];
  /** Image side in pixels (square RGB, NHWC). */
  imageSize: number;
}

export interface EvalGraph {
  graph: IrGraph;
  /** The fed initializers the graph reads (its inputs besides kd_x), in the request's order. */
  fed: string[];
  /** Values per image of the output. */
  outputSize: number;
  /** The graph output of each extra layer (a layer named twice is output once). */
  extra: string[];
}

/** The forward graph x [N, H, W, 3] -> output [N, E], reading the fed parameters as inputs. */
export function compileEvaluation(req: EvalGraphRequest): EvalGraph {
  const s = req.imageSize;
  const dims = { height: s, width: s, channels: 3, grid: 1, samples: 1, relu: false };
  const { graph, featureSize } = compileFeatures(req.model, req.output, dims);
  const produced = new Set(graph.nodes.flatMap((n) => n.outputs));
  const extra = (req.extra ?? []).map((layer) => {
    const value = req.model.tapValues.get(layer);
    if (!value || !produced.has(value))
      throw new CompileError(`${req.model.source}: layer '${layer}' is not computed on the way to '${req.output}'`);
    return value;
  });
  for (const value of new Set(extra)) graph.outputs.push({ name: value });
  const read = new Set(graph.nodes.flatMap((n) => n.inputs));
  const upstream = new Set(plan(req.model, req.output).nodes.flatMap((n) => n.inputs));
  const fed: string[] = [];
  for (const name of req.fed) {
    if (!upstream.has(name)) continue;
    // A parameter folded into a constant while compiling would be evaluated at its value of today.
    if (!read.has(name))
      throw new CompileError(
        `${req.model.source}: parameter '${name}' was folded into a constant of the evaluation graph`
      );
    const init = graph.initializers.get(name);
    if (!init) throw new CompileError(`${req.model.source}: no parameter named '${name}'`);
    graph.initializers.delete(name);
    graph.inputs.push({ name, type: 'float', shape: [...init.dims] });
    fed.push(name);
  }
  // The model's other initializers (layers past the output, the fed parameters' values) stay out of the graph.
  for (const name of [...graph.initializers.keys()]) if (!read.has(name)) graph.initializers.delete(name);
  return { graph: { ...graph, name: `evaluate_${req.output}` }, fed, outputSize: featureSize, extra };
}

export interface Evaluator {
  /** The loss and accuracy over `set` with the parameters `params` (by initializer name). */
  evaluate(set: ImageSet, params: ReadonlyMap<string, Ort.Tensor>): Promise<Evaluation>;
}

const distillTerms = (o: DistillTerms): DistillTerms => ({
  featureScale: o.featureScale,
  logits: o.logits,
  attentionBeta: o.attentionBeta
});

/**
 * A stage's evaluation graph and loss: the logits scored by the labels or student.method's terms
 * (the feature tap, when scored, and the attention layers as extra outputs), or the tap by stage 1's
 * feature loss. Null (the stage evaluates on TF.js after a flush) when the graph does not compile,
 * e.g. a parameter folded into a constant, or the logits do not match the classes.
 */
export async function stageEvaluation(o: {
  objective: Objective;
  /** The model with its batch norms in inference mode. */
  model: () => Promise<ModelIr>;
  /** The model's output layer (the logits). */
  output: string;
  fed: readonly string[];
  imageSize: number;
}): Promise<{ graph: EvalGraph; loss: EvalLoss } | null> {
  const obj = o.objective;
  const loss: EvalLoss =
    obj.kind === 'labels'
      ? { kind: 'labels', numClasses: obj.numClasses }
      : obj.kind === 'feature'
        ? { kind: 'feature', scale: obj.scale }
        : { kind: 'distill', numClasses: obj.numClasses, ...distillTerms(obj) };
  const source = obj.kind === 'labels' ? null : obj.source;
  if (obj.kind !== 'labels' && !source) return null;
  const extra =
    obj.kind === 'distill' ? [...(obj.featureScale !== null ? [obj.source!.tap!] : []), ...obj.source!.layers] : [];
  try {
    const graph = compileEvaluation({
      model: await o.model(),
      output: obj.kind === 'feature' ? obj.source!.tap : o.output,
      extra,
      fed: o.fed,
      imageSize: o.imageSize
    });
    return loss.kind !== 'feature' && graph.outputSize !== loss.numClasses ? null : { graph, loss };
  } catch (err) {
    if (err instanceof CompileError) return null;
    throw err;
  }
}

/**
 * Images per evaluation run: TF.js's 128 up to 64 px, fewer above (128 images' worth of 64 x 64
 * pixels; 10 at 224 px), so the evaluation session's memory arena, which ONNX Runtime keeps for
 * the stage, stays small beside the step's.
 */
export const evalBatch = (size: number): number =>
  Math.max(1, Math.min(EVAL_BATCH, Math.floor((EVAL_BATCH * 64 * 64) / (size * size))));

/** The teacher graph that feeds `input` of the step graph, run on a batch. */
type TeacherRun = (input: string, x: Ort.Tensor) => Promise<Float32Array>;

/** One batch's scores from the evaluation graph's outputs. */
async function scoreBatch(
  o: { loss: EvalLoss; eval: EvalGraph; teacher: TeacherRun },
  b: { out: Ort.InferenceSession.OnnxValueMapType; main: string; x: Ort.Tensor; labels: Int32Array }
): Promise<BatchScore> {
  const { loss } = o;
  const main = b.out[b.main].data as Float32Array;
  if (loss.kind === 'labels') return scoreLogits(main, b.labels, loss.numClasses);
  if (loss.kind === 'feature')
    return {
      lossSum: scoreFeatures(main, await o.teacher(TRAIN_INPUTS.target, b.x), {
        scale: loss.scale,
        n: b.labels.length
      }),
      correct: 0
    };
  const value = (v: string): Ort.Tensor => b.out[v] as Ort.Tensor;
  const feature = loss.featureScale !== null;
  const layers = o.eval.extra.slice(feature ? 1 : 0);
  return scoreDistill(loss, {
    labels: b.labels,
    student: {
      logits: main,
      feature: feature ? (value(o.eval.extra[0]).data as Float32Array) : null,
      attention: layers.map((v) => ({ data: value(v).data as Float32Array, dims: value(v).dims }))
    },
    teacher: {
      logits: loss.logits ? await o.teacher(TRAIN_INPUTS.teacherLogits, b.x) : null,
      feature: feature ? await o.teacher(TRAIN_INPUTS.target, b.x) : null,
      attention: await Promise.all(layers.map((_, i) => o.teacher(teacherAttentionInput(i), b.x)))
    }
  });
}

/** An evaluator on an open session of compileEvaluation's graph, with the stepper's teacher graphs (feature and distill losses). */
export function evaluator(o: {
  ort: typeof Ort;
  session: Ort.InferenceSession;
  eval: EvalGraph;
  loss: EvalLoss;
  teachers: readonly { input: string; session: Ort.InferenceSession }[];
}): Evaluator {
  const { ort, session, loss } = o;
  const teacher: TeacherRun = async (input, x) => {
    const t = o.teachers.find((g) => g.input === input)?.session;
    if (!t) throw new Error(`evaluation: no teacher graph feeds '${input}'`);
    return (await t.run({ kd_x: x }))[t.outputNames[0]].data as Float32Array;
  };
  return {
    async evaluate(set, params) {
      const s = set.size;
      const per = evalBatch(s);
      let lossSum = 0,
        correct = 0;
      for (let start = 0; start < set.n; start += per) {
        const n = Math.min(per, set.n - start);
        const batch = gatherBatch(
          set,
          Array.from({ length: n }, (_, i) => start + i),
          null,
          null
        );
        const x = new ort.Tensor('float32', batch.x, [n, s, s, 3]);
        const feeds: Record<string, Ort.Tensor> = { kd_x: x };
        for (const name of o.eval.fed) {
          const t = params.get(name);
          if (!t) throw new Error(`evaluation: no value for parameter '${name}'`);
          feeds[name] = t;
        }
        const out = await session.run(feeds);
        const r = await scoreBatch(
          { loss, eval: o.eval, teacher },
          { out, main: session.outputNames[0], x, labels: batch.labels }
        );
        lossSum += r.lossSum;
        correct += r.correct;
      }
      return { loss: lossSum / set.n, accuracy: loss.kind === 'feature' ? null : correct / set.n };
    }
  };
}
