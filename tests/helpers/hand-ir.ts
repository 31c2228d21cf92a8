/*
 * Pieces of the small models the compiler tests build by hand (nodes named after their output, taps
 * under their own names, seeded random parameters), so that each test spells out only its graph.
 */
import { f32, type IrNode, type IrTensor, type ModelIr } from '../../src/engine/onnx/ir';
import { randomNormal } from './train-fd';

/** The number of values of a tensor of `dims`. */
export const sizeOf = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

/** A node of a hand-built model, named after its (first) output. */
export function irNode(op: string, inputs: string[], outputs: string | string[], attrs: IrNode['attrs'] = {}): IrNode {
  const outs = typeof outputs === 'string' ? [outputs] : outputs;
  return { op, name: outs[0], inputs, outputs: outs, attrs };
}

/** The taps of a hand-built model: each value tapped under its own name. */
export const tapsOf = (...names: string[]): Pick<ModelIr, 'tapNames' | 'tapValues'> => ({
  tapNames: names,
  tapValues: new Map(names.map((n) => [n, n]))
});

/**
 * Random float32 parameters: the i-th of `params` ([name, dims]) standard normal from seed `seed + i`,
 * times `scale` (or `scale(name)`).
 */
export function randomParams(
  params: [string, number[]][],
  seed: number,
  scale: number | ((name: string) => number)
): Map<string, IrTensor> {
  const factor = typeof scale === 'number' ? () => scale : scale;
  return new Map(
    params.map(([name, dims], i) => [name, f32(dims, randomNormal(sizeOf(dims), seed + i, factor(name)))])
  );
}
