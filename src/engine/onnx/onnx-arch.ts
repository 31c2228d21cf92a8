/*
 * An ONNX file as the architecture of a run (issue 17 section 3): what the teacher, the student and
 * the baseline share. planOnnxArchitecture reads the file and decides, before anything is trained or
 * written, everything a run needs from it, or refuses naming the file and the node: the fixed input
 * size against the dataset's, the classifier to replace (onnx-classifier.ts), the tap
 * (any node or output, inside the graph from the input to the classifier), and whether the whole
 * replaced-classifier graph compiles to a training step (an op without a gradient rule is named by
 * the training-step compiler). A pretrained teacher file must hold the same graph's weights.
 */
import type { IrNode, ModelIr } from './ir';
import { readOnnxModel } from './onnx-file';
import { inferenceForm } from './onnx-arch-dropout';
import { compileTrainStep } from './train-graph';
import { CompileError } from './rules/rule';
import { dependsOnInput, findClassifier, withClassifier, type OnnxClassifier } from './onnx-classifier';

export { dependsOnInput, findClassifier, withClassifier, type OnnxClassifier };

export interface OnnxArchPlan {
  file: string;
  /** The file's graph with the classifier resized to the target classes (its weights zero until initialised). */
  ir: ModelIr;
  inputSize: number;
  classifier: OnnxClassifier;
  tap: { name: string; value: string };
  /** Weights trained (conv, linear, batch-norm scale and bias), in graph order. */
  trainable: string[];
  /** Running statistics of the batch norms (updated in training, never by gradient). */
  state: string[];
}

export interface OnnxArchRequest {
  bytes: Uint8Array;
  /** The file's name as the user gave it: the prefix of every message. */
  file: string;
  classifier: string | null;
  tap: string;
  /** The dataset's image side and class count. */
  imageSize: number;
  classes: number;
  dataset: string;
  /** The file is a pretrained teacher (its classifier's outputs are its source's classes). */
  pretrained: boolean;
}

/** Parameter positions of the ops whose weights train; the rest of their inputs are data or constants. */
const PARAM_INPUTS: Record<string, number[]> = {
  Conv: [1, 2],
  ConvTranspose: [1, 2],
  Gemm: [1, 2],
  MatMul: [1],
  BatchNormalization: [1, 2]
};

/** The nodes that compute `value`, in graph order. */
export function upstream(ir: ModelIr, value: string): IrNode[] {
  const producer = new Map<string, IrNode>();
  for (const n of ir.nodes) for (const o of n.outputs) producer.set(o, n);
  const keep = new Set<IrNode>();
  const visit = (v: string): void => {
    const n = producer.get(v);
    if (!n || keep.has(n)) return;
    keep.add(n);
    n.inputs.forEach((i) => i && visit(i));
  };
  visit(value);
  return ir.nodes.filter((n) => keep.has(n));
}

/**
 * A fixed-batch export as a graph of any batch: torch writes the export's batch size as the first
 * entry of constant Reshape targets (ShuffleNet's channel shuffle); on the data path that entry
 * becomes 0 (copy the input's batch), in a target of the node's own, so that the training steps and
 * the checkpoints take any batch. A Reshape with allowzero = 1 is refused naming the node; any other
 * place the batch is fixed in is refused by the training-step compiler, naming the node.
 */
export function withDynamicBatch(ir: ModelIr, file: string): ModelIr {
  const batch = ir.staticBatch;
  if (batch === undefined) return ir;
  const data = dependsOnInput(ir);
  const initializers = new Map(ir.initializers);
  const nodes = ir.nodes.map((n) => {
    const target = n.op === 'Reshape' && data.has(n.inputs[0]) ? ir.initializers.get(n.inputs[1]) : undefined;
    if (!target || target.type !== 'int64' || Number(target.data[0]) !== batch) return n;
    if (Number(n.attrs.allowzero ?? 0) === 1)
      throw new CompileError(
        `${file}: node '${n.name}' (Reshape): the file was exported with a fixed batch of ${batch} and this Reshape (allowzero = 1) fixes it; export with a dynamic batch axis`
      );
    const name = `${n.inputs[1]}__any_batch_${n.name}`;
    initializers.set(name, {
      ...target,
      data: BigInt64Array.from(target.data as BigInt64Array, (v, i) => (i === 0 ? 0n : v))
    });
    return { ...n, inputs: [n.inputs[0], name, ...n.inputs.slice(2)] };
  });
  return { ...ir, nodes, initializers, staticBatch: undefined };
}

/** Batch norms train with batch statistics (their running statistics state), as torch's train(). */
export function inTrainingMode(ir: ModelIr): ModelIr {
  return {
    ...ir,
    nodes: ir.nodes.map((n) => (n.op === 'BatchNormalization' ? { ...n, attrs: { ...n.attrs, training_mode: 1 } } : n))
  };
}

export function planOnnxArchitecture(req: OnnxArchRequest): OnnxArchPlan {
  const { file } = req;
  // Dropout and batch-norm nodes of a training-mode export in inference form (onnx-arch-dropout.ts).
  const read = inferenceForm(withDynamicBatch(readOnnxModel(req.bytes, file), file), file);
  const [c, h, w] = read.input.shape;
  if (c !== 3)
    throw new CompileError(
      `${file}: the input '${read.input.name}' has ${c} channels; dataset images are RGB (3 channels, NCHW)`
    );
  if (h !== req.imageSize || w !== req.imageSize)
    throw new CompileError(
      `${file}: the input '${read.input.name}' is fixed at ${h}x${w} pixels, but dataset '${req.dataset}' has ${req.imageSize}x${req.imageSize} images; re-import the dataset at ${h} px or export the model at ${req.imageSize} px`
    );
  const classifier = findClassifier(read, req.classifier, file);
  if (req.pretrained && req.classifier === null && classifier.outputs < req.classes)
    throw new CompileError(
      `${file}: the teacher's classifier '${classifier.node}' has ${classifier.outputs} outputs, fewer than the ${req.classes} classes of dataset '${req.dataset}'; if it is the classifier to replace, name it with architecture.classifier`
    );
  const ir = withClassifier(read, classifier, req.classes);
  const graph = upstream(ir, classifier.value);
  const data = dependsOnInput(ir);
  const value = ir.tapValues.get(req.tap);
  if (!value)
    throw new CompileError(
      `${file}: tap: no node or output named '${req.tap}' (the names are: ${ir.tapNames.slice(0, 40).join(', ')})`
    );
  // A tap at or before the classifier (a Conv classifier's head of pools and activations is not one).
  if (!upstream(ir, classifier.output).some((n) => n.outputs.includes(value)) || !data.has(value))
    throw new CompileError(
      `${file}: tap '${req.tap}' is outside the trainable graph (the nodes from the input '${ir.input.name}' to the classifier '${classifier.node}')`
    );
  const trainable: string[] = [];
  const state: string[] = [];
  for (const n of graph) {
    if (!n.inputs.some((i) => data.has(i))) continue;
    for (const k of PARAM_INPUTS[n.op] ?? []) {
      const p = n.inputs[k];
      if (p && ir.initializers.get(p)?.type === 'float' && !trainable.includes(p)) trainable.push(p);
    }
    if (n.op === 'BatchNormalization') {
      // torch merges equal initializers of an untrained export (a fresh batch norm's scale and running
      // variance): the statistics are then Identity nodes, which the training step cannot update.
      const shared = n.inputs.slice(1, 5).find((i) => ir.initializers.get(i)?.type !== 'float');
      if (shared !== undefined)
        throw new CompileError(
          `${file}: node '${n.name}': its weight or running statistic '${shared}' is not a weight of its own in the file (torch merges equal weights when it exports an untrained network: export a trained one, with do_constant_folding=False)`
        );
      state.push(n.inputs[3], n.inputs[4]);
    }
  }
  // The whole graph must compile to a training step: the compiler names any op without a gradient rule.
  try {
    compileTrainStep(
      {
        model: inTrainingMode(ir),
        trainable,
        objective: { kind: 'labels', output: classifier.value, numClasses: req.classes },
        momentum: 0.9,
        weightDecay: 0,
        tapKernel: null,
        state
      },
      { height: h, width: w }
    );
  } catch (e) {
    // Rules' messages already name the file once.
    if (e instanceof CompileError) throw new CompileError(e.message.split(`${file}: ${file}: `).join(`${file}: `));
    throw e;
  }
  return { file, ir, inputSize: h, classifier, tap: { name: req.tap, value }, trainable, state };
}

/**
 * A pretrained teacher file against the architecture: the same parameters with the same shapes,
 * except the classifier (replaced anyway). Refuses naming the first difference.
 */
export function checkSameGraph(plan: OnnxArchPlan, teacher: ModelIr): void {
  const c = plan.classifier;
  for (const name of [...plan.trainable, ...plan.state]) {
    if (name === c.weight || name === c.bias) continue;
    const mine = plan.ir.initializers.get(name)!;
    const theirs = teacher.initializers.get(name);
    if (!theirs)
      throw new CompileError(
        `${teacher.source}: teacher.pretrained has no weight '${name}' of the architecture ${plan.file}`
      );
    if (theirs.dims.join(',') !== mine.dims.join(','))
      throw new CompileError(
        `${teacher.source}: teacher.pretrained: weight '${name}' is [${theirs.dims.join(', ')}], the architecture ${plan.file} has [${mine.dims.join(', ')}]`
      );
  }
}
