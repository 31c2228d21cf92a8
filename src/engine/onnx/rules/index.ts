/*
 * Every backward rule by ONNX op type. An op missing here cannot be compiled; the compiler refuses
 * it, naming the node, before any work starts.
 */
import type { OpRule } from './rule';
import { CONV_RULES } from './conv';
import { LINEAR_RULES } from './linear';
import { ACTIVATION_RULES } from './activation';
import { POOL_RULES } from './pool';
import { ELEMENTWISE_RULES } from './elementwise';
import { SHAPE_RULES } from './shape';
import { ARITH_RULES } from './arith';
import { MATH_RULES } from './math';
import { REDUCE_RULES } from './reduce';
import { SLICE_RULES } from './slice';
import { FOLDED_OPS } from '../shape-fold';

export const RULES: Readonly<Record<string, OpRule>> = {
  ...CONV_RULES,
  ...LINEAR_RULES,
  ...ACTIVATION_RULES,
  ...POOL_RULES,
  ...ELEMENTWISE_RULES,
  ...SHAPE_RULES,
  ...ARITH_RULES,
  ...MATH_RULES,
  ...REDUCE_RULES,
  ...SLICE_RULES
};

/**
 * What the ONNX compiler supports, in one place (the README's table is checked against it):
 * ops with a backward rule may lie between the model input and the tap; folded ops are evaluated
 * when compiling (shape arithmetic, with the batch size as a symbol); Constant nodes are read as
 * constants; any node that does not depend on the input is first folded by ONNX Runtime (fold.ts).
 */
export const SUPPORTED_OPS = {
  differentiable: Object.keys(RULES).sort(),
  folded: [...FOLDED_OPS].sort(),
  read: ['Constant']
} as const;
