/*
 * An ONNX file as the architecture of a run (issue 17 section 3): what the teacher, the student and
 * the baseline share. planOnnxArchitecture reads the file and decides, before anything is trained or
 * written, everything a run needs from it, or refuses naming the file and the node: the fixed input
 * size against the dataset's, the classifier to replace (named, or the last Gemm/MatMul), the tap
 * (any node or output, inside the graph from the input to the classifier), and whether the whole
 * replaced-classifier graph compiles to a training step (an op without a gradient rule is named by
 * the training-step compiler). A pretrained teacher file must hold the same graph's weights.
 */
import { f32, type IrNode, type IrTensor, type ModelIr } from './ir';
import { readOnnxModel } from './onnx-file';
import { compileTrainStep } from './train-graph';
import { CompileError } from './rules/rule';

export interface OnnxClassifier {
  node: string;
  op: 'Gemm' | 'MatMul';
  weight: string;
  bias: string | null;
  /** Gemm with transB = 1 stores the weight [out, in] (torch's Linear), otherwise [in, out]. */
  transposed: boolean;
  features: number;
  /** The file's output count (its classes). */
  outputs: number;
  /** The value the classifier writes: the logits trained on. */
  value: string;
}

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

export function dependsOnInput(ir: ModelIr): Set<string> {
  const data = new Set([ir.input.name]);
  for (const n of ir.nodes) if (n.inputs.some((i) => data.has(i))) n.outputs.forEach((o) => data.add(o));
  return data;
}

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

export function findClassifier(ir: ModelIr, named: string | null, file: string): OnnxClassifier {
  const data = dependsOnInput(ir);
  const candidates = ir.nodes.filter((n) => (n.op === 'Gemm' || n.op === 'MatMul') && data.has(n.outputs[0]));
  let node: IrNode | undefined;
  if (named !== null) {
    node = ir.nodes.find((n) => n.name === named || n.outputs.includes(named));
    if (!node)
      throw new CompileError(
        `${file}: architecture.classifier: no node or output named '${named}' (Gemm/MatMul nodes: ${candidates.map((n) => n.name).join(', ') || 'none'})`
      );
    if (node.op !== 'Gemm' && node.op !== 'MatMul')
      throw new CompileError(
        `${file}: architecture.classifier: node '${node.name}' is a ${node.op}; the classifier to replace must be a Gemm or MatMul`
      );
  } else {
    node = candidates[candidates.length - 1];
    if (!node)
      throw new CompileError(
        `${file}: no Gemm or MatMul node reads the image, so no classifier can be replaced for the target classes; name it with architecture.classifier`
      );
  }
  const weight = node.inputs[1];
  const w = ir.initializers.get(weight);
  if (!w || w.type !== 'float' || w.dims.length !== 2)
    throw new CompileError(
      `${file}: classifier '${node.name}': its weight '${weight}' is not a 2-D float initializer, so it cannot be replaced (export with do_constant_folding=False, or name another classifier)`
    );
  const transposed = node.op === 'Gemm' && Number(node.attrs.transB ?? 0) === 1;
  if (node.op === 'Gemm' && Number(node.attrs.transA ?? 0) === 1)
    throw new CompileError(`${file}: classifier '${node.name}': a Gemm with transA = 1 cannot be replaced`);
  const bias = node.op === 'Gemm' && node.inputs[2] ? node.inputs[2] : null;
  if (bias !== null && !ir.initializers.has(bias))
    throw new CompileError(`${file}: classifier '${node.name}': its bias '${bias}' is not an initializer`);
  const [features, outputs] = transposed ? [w.dims[1], w.dims[0]] : [w.dims[0], w.dims[1]];
  return {
    node: node.name,
    op: node.op === 'Gemm' ? 'Gemm' : 'MatMul',
    weight,
    bias,
    transposed,
    features,
    outputs,
    value: node.outputs[0]
  };
}

/** The IR with the classifier's weight and bias resized to `classes` outputs (zeros: initialise them). */
export function withClassifier(ir: ModelIr, c: OnnxClassifier, classes: number): ModelIr {
  const initializers = new Map<string, IrTensor>(ir.initializers);
  const dims = c.transposed ? [classes, c.features] : [c.features, classes];
  initializers.set(c.weight, f32(dims, new Float32Array(classes * c.features)));
  if (c.bias) initializers.set(c.bias, f32([classes], new Float32Array(classes)));
  return { ...ir, initializers };
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
  const read = withDynamicBatch(readOnnxModel(req.bytes, file), file);
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
      `${file}: the teacher's last Gemm/MatMul '${classifier.node}' has ${classifier.outputs} outputs, fewer than the ${req.classes} classes of dataset '${req.dataset}'; if it is the classifier to replace, name it with architecture.classifier`
    );
  const ir = withClassifier(read, classifier, req.classes);
  const graph = upstream(ir, classifier.value);
  const data = dependsOnInput(ir);
  const value = ir.tapValues.get(req.tap);
  if (!value)
    throw new CompileError(
      `${file}: tap: no node or output named '${req.tap}' (the names are: ${ir.tapNames.slice(0, 40).join(', ')})`
    );
  if (!graph.some((n) => n.outputs.includes(value)) || !data.has(value))
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
