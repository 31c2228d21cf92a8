/*
 * The ONNX training engine's evaluation (the per-epoch validation of a stage), on ONNX Runtime
 * instead of TF.js, so the loop need not write the engine's weights into the TF.js model to
 * evaluate them. One forward graph per stage (compile.ts's features graph of the model at its
 * logits, or at the tap for stage 1's feature objective), compiled once when the stepper opens, with
 * batch norms in inference mode (their moving statistics), dropout an Identity, and the parameters
 * the stage changes (trained weights, moving statistics that training-mode batch norms update) as
 * graph inputs, fed the ONNX Runtime tensors the stepper holds. The loss is computed here from the
 * graph's output as evaluate.ts computes it on TF.js: the mean softmax cross-entropy of the logits
 * and the arg-max accuracy, or scale * mean (f - f_teacher)^2 with the teacher's features from the
 * stepper's teacher graph.
 */
import type * as Ort from 'onnxruntime-node';
import type { IrGraph, ModelIr } from './ir';
import { compileFeatures } from './compile';
import { plan } from './emit';
import { CompileError } from './rules/rule';
import { gatherBatch, type ImageSet } from '../training/batches';
import { EVAL_BATCH, type Evaluation } from '../training/evaluate';

/** What the evaluation graph's output is scored by. */
export type EvalLoss = { kind: 'labels'; numClasses: number } | { kind: 'feature'; scale: number };

export interface EvalGraphRequest {
  /** The model with its batch norms in inference mode (tfjs-params.ts unfoldBatchNorms(..., false)). */
  model: ModelIr;
  /** The layer whose output is scored: the logits (labels) or the tap (feature objective). */
  output: string;
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
}

/** The forward graph x [N, H, W, 3] -> output [N, E], reading the fed parameters as inputs. */
export function compileEvaluation(req: EvalGraphRequest): EvalGraph {
  const s = req.imageSize;
  const dims = { height: s, width: s, channels: 3, grid: 1, samples: 1, relu: false };
  const { graph, featureSize } = compileFeatures(req.model, req.output, dims);
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
  return { graph: { ...graph, name: `evaluate_${req.output}` }, fed, outputSize: featureSize };
}

export interface Evaluator {
  /** The loss and accuracy over `set` with the parameters `params` (by initializer name). */
  evaluate(set: ImageSet, params: ReadonlyMap<string, Ort.Tensor>): Promise<Evaluation>;
}

/** Sums of one batch's scores: the loss summed over images and the images classed right. */
function scoreLogits(z: Float32Array, labels: Int32Array, k: number): { lossSum: number; correct: number } {
  let lossSum = 0,
    correct = 0;
  for (let i = 0; i < labels.length; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (z[i * k + j] > z[i * k + best]) best = j;
    const m = z[i * k + best];
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(z[i * k + j] - m);
    lossSum += m + Math.log(sum) - z[i * k + labels[i]];
    if (best === labels[i]) correct++;
  }
  return { lossSum, correct };
}

/** scale * mean (f - t)^2 over one batch's elements, times its images (a sum over images of the batch mean). */
function scoreFeatures(f: Float32Array, t: Float32Array, o: { scale: number; n: number }): number {
  if (f.length !== t.length)
    throw new Error(`evaluation: the student's feature has ${f.length} values, the teacher's ${t.length}`);
  let sum = 0;
  for (let i = 0; i < f.length; i++) sum += (f[i] - t[i]) * (f[i] - t[i]);
  return (o.scale * sum * o.n) / f.length;
}

/** An evaluator on an open session of compileEvaluation's graph (and the teacher's features session for a feature loss). */
export function evaluator(o: {
  ort: typeof Ort;
  session: Ort.InferenceSession;
  eval: EvalGraph;
  loss: EvalLoss;
  teacher: Ort.InferenceSession | null;
}): Evaluator {
  const { ort, session, loss } = o;
  if (loss.kind === 'feature' && !o.teacher) throw new Error('evaluation: a feature loss needs the teacher graph');
  return {
    async evaluate(set, params) {
      const s = set.size;
      let lossSum = 0,
        correct = 0;
      for (let start = 0; start < set.n; start += EVAL_BATCH) {
        const n = Math.min(EVAL_BATCH, set.n - start);
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
        const out = (await session.run(feeds))[session.outputNames[0]].data as Float32Array;
        if (loss.kind === 'labels') {
          const r = scoreLogits(out, batch.labels, loss.numClasses);
          lossSum += r.lossSum;
          correct += r.correct;
        } else {
          const t = (await o.teacher!.run({ kd_x: x }))[o.teacher!.outputNames[0]].data as Float32Array;
          lossSum += scoreFeatures(out, t, { scale: loss.scale, n });
        }
      }
      return { loss: lossSum / set.n, accuracy: loss.kind === 'labels' ? correct / set.n : null };
    }
  };
}
