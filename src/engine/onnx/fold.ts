/*
 * Constant folding by ONNX Runtime itself: the nodes of an ONNX file that do not depend on the
 * image input (PyTorch exports compute pads and shapes this way: ConstantOfShape, Slice, Cast,
 * Concat...) are run once in a session of their own and replaced by the tensors they produce, so
 * the backward rules see plain constants. Nodes that depend on the input are left alone.
 */
import type { IrGraph, IrNode, IrTensor, ModelIr } from './ir';
import { encodeModel } from './model-proto';
import type { OrtModule } from './runtime';
import { CompileError } from './rules/rule';

export async function foldConstants(model: ModelIr, ort: OrtModule): Promise<ModelIr> {
  const data = new Set([model.input.name]);
  for (const n of model.nodes) if (n.inputs.some((i) => data.has(i))) n.outputs.forEach((o) => data.add(o));
  const constantNodes: IrNode[] = model.nodes.filter((n) => !n.outputs.some((o) => data.has(o)));
  if (constantNodes.length === 0) return model;
  const produced = new Set(constantNodes.flatMap((n) => n.outputs));
  const needed = [
    ...new Set(
      model.nodes
        .filter((n) => !constantNodes.includes(n))
        .flatMap((n) => n.inputs)
        .filter((i) => produced.has(i))
    )
  ];
  if (needed.length === 0) return { ...model, nodes: model.nodes.filter((n) => !constantNodes.includes(n)) };
  const graph: IrGraph = {
    name: 'constants',
    nodes: constantNodes,
    initializers: model.initializers,
    inputs: [],
    outputs: needed.map((name) => ({ name }))
  };
  let values: Record<string, { type: string; dims: readonly number[]; data: unknown }>;
  try {
    // The outputs carry no type: ONNX Runtime infers them.
    const session = await ort.InferenceSession.create(encodeModel(graph, 'kd-lens-fold'));
    values = (await session.run({})) as never;
    await session.release();
  } catch (err) {
    throw new CompileError(
      `${model.source}: the constant part of the graph (${constantNodes.map((n) => n.name).join(', ')}) does not run: ${(err as Error).message.split('\n')[0]}`
    );
  }
  const initializers = new Map(model.initializers);
  for (const name of needed) {
    const v = values[name];
    const dims = [...v.dims];
    let t: IrTensor;
    if (v.type === 'float32') t = { type: 'float', dims, data: Float32Array.from(v.data as Float32Array) };
    else if (v.type === 'int64') t = { type: 'int64', dims, data: BigInt64Array.from(v.data as BigInt64Array) };
    else if (v.type === 'int32')
      t = { type: 'int64', dims, data: BigInt64Array.from(v.data as Int32Array, (x) => BigInt(x)) };
    else
      throw new CompileError(
        `${model.source}: constant '${name}' is of type ${v.type}, which the compiler does not use`
      );
    initializers.set(name, t);
  }
  return { ...model, nodes: model.nodes.filter((n) => !constantNodes.includes(n)), initializers };
}
