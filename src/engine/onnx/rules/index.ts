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
