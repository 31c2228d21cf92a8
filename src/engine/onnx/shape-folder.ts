/*
 * Shape arithmetic folded while a graph is emitted, one node at a time: what both compilers (the
 * quantification graphs in emit.ts, the training step in train-graph.ts) do with a node that does not
 * depend on the model input's values, only at most on its shape (shape-fold.ts evaluates it). A
 * value without the batch size becomes a constant; one with it stays a node of the graph (ONNX
 * Runtime computes it from the real batch) and its symbolic value is kept for the rules
 * (RuleContext.batchShape); `torch.zeros_like(h)` becomes a constant with a first axis of 1, which
 * only broadcasting arithmetic of data may read.
 */
import type { GraphBuilder, IrNode, IrTensor } from './ir';
import { fail, type SymInt } from './rules/rule';
import { batchConstant, foldNode, symToTensor, tensorToSym, type FoldEnv, type SymTensor } from './shape-fold';

/** Ops that broadcast a constant whose first axis of 1 stands for the batch (ConstantOfShape of a batch shape). */
const BROADCASTING = new Set(['Add', 'Sub', 'Mul', 'Div']);

/** An initializer as a folded value, when it is small enough to be a shape or a fill value. */
function smallConstant(t: IrTensor | undefined): SymTensor | undefined {
  if (!t) return undefined;
  const limit = t.type === 'float' ? 1 : 64;
  return t.data.length <= limit ? tensorToSym(t) : undefined;
}

export class ShapeFolder {
  private readonly folded = new Map<string, SymTensor>();
  private readonly batchBroadcast = new Set<string>();
  private readonly env: FoldEnv;

  /** `dataShape`: the per-sample shape of a value that depends on the model input, else undefined. */
  constructor(
    private readonly b: GraphBuilder,
    dataShape: (name: string) => number[] | undefined
  ) {
    this.env = { known: (name) => this.folded.get(name) ?? smallConstant(b.initializers.get(name)), dataShape };
  }

  /** The symbolic value of a folded shape that holds the batch size (RuleContext.batchShape). */
  readonly batchShape = (name: string): SymInt[] | undefined => this.folded.get(name)?.values;

  /**
   * Refuses a node that reads a batch-shaped constant unless it is broadcasting arithmetic of data
   * (`data`: the node depends on the model input): such a constant does not exist at run time.
   */
  checkReads(n: IrNode, data: boolean): void {
    n.inputs.forEach((i) => {
      if (this.batchBroadcast.has(i) && !(data && BROADCASTING.has(n.op)))
        fail(n, `it reads '${i}', a constant shaped by the batch size, which only broadcasting arithmetic may use`);
    });
  }

  /** Emits a node that does not depend on the input's values: folded into constants when it can be, else as is. */
  emit(n: IrNode): void {
    this.checkReads(n, false);
    const values = foldNode(n, this.env);
    const broadcastConstant = values ? undefined : batchConstant(n, this.env);
    if (broadcastConstant) {
      this.b.initializers.set(n.outputs[0], broadcastConstant);
      this.batchBroadcast.add(n.outputs[0]);
      return;
    }
    const tensors = values?.map(symToTensor);
    if (values && tensors?.every((t) => t !== undefined)) {
      n.outputs.forEach((o, k) => this.b.initializers.set(o, tensors[k]!));
      return;
    }
    values?.forEach((v, k) => this.folded.set(n.outputs[k], v));
    this.b.nodes.push(n);
  }
}
