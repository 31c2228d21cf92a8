/*
 * student.method on an ONNX architecture (issue 17): Hinton's logit distillation on the fine-tuned
 * ONNX teacher's logits and Zagoruyko and Komodakis' attention transfer at layers named as the
 * tap is, by a node or output name of the graph (`/layer2/layer2.1/relu_1/Relu` or its output
 * value). checkStudentMethod refuses, before anything is trained or written, an attention layer
 * that is unknown, outside the graph from the input to the classifier, or not a convolutional
 * activation [c, h, w] per image, naming the field, the file and the layer; then the whole stage-1
 * step of the method must compile (an op without a gradient rule is named by the compiler).
 */
import type { StudentMethod } from '../../common/config';
import { compileInputGradient } from './compile';
import { dependsOnInput, inTrainingMode, upstream, type OnnxArchPlan } from './onnx-arch';
import type { OnnxObjective, Weights } from './onnx-arch-train';
import { compileTrainStep } from './train-graph';
import { CompileError } from './rules/rule';

/** Whether the method has terms beyond the tap's feature (stage 1 then trains every layer). */
export const distilsWhole = (m: StudentMethod | undefined): boolean =>
  Boolean(m && (m.logits !== null || m.attention !== null));

/** Per-image shapes [c, h, w] of the attention layers; refuses a layer that cannot be one. */
export function attentionShapes(plan: OnnxArchPlan, layers: readonly string[]): number[][] {
  const { ir, file } = plan;
  const graph = upstream(ir, plan.classifier.value);
  const data = dependsOnInput(ir);
  return layers.map((name, i) => {
    const field = `student.method.attention.layers[${i}]`;
    const value = ir.tapValues.get(name);
    if (!value)
      throw new CompileError(
        `${file}: ${field}: no node or output named '${name}' (the names are: ${ir.tapNames.slice(0, 40).join(', ')})`
      );
    if (!graph.some((n) => n.outputs.includes(value)) || !data.has(value))
      throw new CompileError(
        `${file}: ${field}: '${name}' is outside the trainable graph (the nodes from the input '${ir.input.name}' to the classifier '${plan.classifier.node}')`
      );
    const shape = compileInputGradient(ir, name).tapShape;
    if (shape.length !== 3)
      throw new CompileError(
        `${file}: ${field}: '${name}' has per-image shape [${shape.join(', ')}], not a convolutional activation [c, h, w]`
      );
    return shape;
  });
}

/** Refuses a method the architecture cannot distil by (nothing to check for the feature term alone). */
export function checkStudentMethod(plan: OnnxArchPlan, method: StudentMethod | undefined): void {
  if (!method || !distilsWhole(method)) return;
  attentionShapes(plan, method.attention?.layers ?? []);
  const [, h, w] = plan.ir.input.shape;
  try {
    compileTrainStep(
      {
        model: inTrainingMode(plan.ir),
        trainable: plan.trainable,
        objective: {
          kind: 'distill',
          output: plan.classifier.value,
          numClasses: plan.ir.initializers.get(plan.classifier.weight)!.dims[plan.classifier.transposed ? 0 : 1],
          feature: method.feature ? { tap: plan.tap.name, scale: 1 } : null,
          logits: method.logits,
          attention: method.attention
        },
        momentum: 0.9,
        weightDecay: 0,
        tapKernel: null,
        state: plan.state
      },
      { height: h, width: w }
    );
  } catch (e) {
    if (e instanceof CompileError) throw new CompileError(`student.method: ${e.message}`);
    throw e;
  }
}

/** Stage 1's objective for a method with logit or attention terms (the feature term scaled by `scale`). */
export function distillObjective(method: StudentMethod, teacher: Weights, scale: number): OnnxObjective {
  return {
    kind: 'distill',
    teacher,
    scale: method.feature ? scale : null,
    logits: method.logits,
    attention: method.attention
  };
}
