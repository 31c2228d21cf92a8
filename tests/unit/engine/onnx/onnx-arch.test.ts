// An ONNX file as a run's architecture: what the plan finds in the tiny PyTorch export, and each refusal naming file and node.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSameGraph, planOnnxArchitecture } from '../../../../src/engine/onnx/onnx-arch';
import { readOnnxModel } from '../../../../src/engine/onnx/onnx-file';
import { OnnxArchitectureSchema, isOnnxFile } from '../../../../src/common/config';
import { archRequest as request, ONNX_ARCH_FIXTURES as DIR } from '../../../helpers/onnx-arch';

describe('planOnnxArchitecture', () => {
  it('finds the input size, the last Gemm as classifier (resized to the classes), the tap and the trained weights', () => {
    const plan = planOnnxArchitecture(request('tiny-arch.onnx'));
    expect(plan.inputSize).toBe(16);
    expect(plan.classifier).toMatchObject({
      node: '/fc/Gemm',
      weight: 'fc.weight',
      bias: 'fc.bias',
      features: 6,
      outputs: 5
    });
    expect(plan.ir.initializers.get('fc.weight')!.dims).toEqual([3, 6]);
    expect(plan.ir.initializers.get('fc.bias')!.dims).toEqual([3]);
    expect(plan.tap).toEqual({ name: '/Relu_1', value: '/Relu_1_output_0' });
    expect(plan.trainable).toEqual([
      'conv1.weight',
      'conv1.bias',
      'bn1.weight',
      'bn1.bias',
      'conv2.weight',
      'conv2.bias',
      'fc.weight',
      'fc.bias'
    ]);
    expect(plan.state).toEqual(['bn1.running_mean', 'bn1.running_var']);
  });

  it('takes the classifier by node or output name, and a tap by output name', () => {
    expect(planOnnxArchitecture(request('tiny-arch.onnx', { classifier: 'logits' })).classifier.node).toBe('/fc/Gemm');
    expect(planOnnxArchitecture(request('tiny-arch.onnx', { tap: '/pool/MaxPool_output_0' })).tap.value).toBe(
      '/pool/MaxPool_output_0'
    );
  });

  it('refuses an op without a gradient rule, naming the file and node', () => {
    expect(() => planOnnxArchitecture(request('sin-op.onnx'))).toThrow(
      /^sin-op\.onnx: node '\/Sin' is a Sin, an op without a gradient rule/
    );
  });

  it('refuses a graph without a classifier to replace, and a named classifier that is not a Gemm/MatMul', () => {
    expect(() => planOnnxArchitecture(request('no-classifier.onnx'))).toThrow(
      /no-classifier\.onnx: no Gemm or MatMul node.*name it with architecture\.classifier/
    );
    expect(() => planOnnxArchitecture(request('tiny-arch.onnx', { classifier: '/conv2/Conv' }))).toThrow(
      /node '\/conv2\/Conv' is a Conv; the classifier to replace must be a Gemm or MatMul/
    );
    expect(() => planOnnxArchitecture(request('tiny-arch.onnx', { classifier: 'head' }))).toThrow(
      /no node or output named 'head' \(Gemm\/MatMul nodes: \/fc\/Gemm\)/
    );
  });

  it('refuses a fixed input size that differs from the dataset images', () => {
    expect(() => planOnnxArchitecture(request('size-24.onnx'))).toThrow(
      /size-24\.onnx: the input 'input' is fixed at 24x24 pixels, but dataset 'tiny' has 16x16 images/
    );
  });

  it('refuses a tap outside the trainable graph or unknown', () => {
    expect(() => planOnnxArchitecture(request('softmax-out.onnx', { tap: '/Softmax' }))).toThrow(
      /softmax-out\.onnx: tap '\/Softmax' is outside the trainable graph .*classifier '\/fc\/Gemm'/
    );
    expect(() => planOnnxArchitecture(request('tiny-arch.onnx', { tap: '/nowhere' }))).toThrow(
      /tap: no node or output named '\/nowhere'/
    );
  });

  it('refuses a teacher with fewer outputs than classes unless the classifier is named', () => {
    expect(() => planOnnxArchitecture(request('tiny-arch.onnx', { pretrained: true, classes: 7 }))).toThrow(
      /'\/fc\/Gemm' has 5 outputs, fewer than the 7 classes of dataset 'tiny'.*architecture\.classifier/
    );
    expect(
      planOnnxArchitecture(
        request('tiny-arch.onnx', { pretrained: true, classes: 7, classifier: '/fc/Gemm' })
      ).ir.initializers.get('fc.weight')!.dims
    ).toEqual([7, 6]);
  });

  it('checks that a pretrained teacher holds the same graph', () => {
    const plan = planOnnxArchitecture(request('tiny-arch.onnx'));
    expect(() =>
      checkSameGraph(plan, readOnnxModel(readFileSync(join(DIR, 'tiny-arch.onnx')), 'teacher.onnx'))
    ).not.toThrow();
    expect(() =>
      checkSameGraph(plan, readOnnxModel(readFileSync(join(DIR, 'no-classifier.onnx')), 'teacher.onnx'))
    ).not.toThrow();
    const other = readOnnxModel(readFileSync(join(DIR, 'tiny-arch.onnx')), 'teacher.onnx');
    other.initializers.set('conv2.weight', { ...other.initializers.get('conv2.weight')!, dims: [6, 4, 1, 9] });
    expect(() => checkSameGraph(plan, other)).toThrow(
      /teacher\.onnx: teacher\.pretrained: weight 'conv2\.weight' is \[6, 4, 1, 9\]/
    );
  });
});

describe('torchvision families as architectures (tests/fixtures/onnx/families)', () => {
  const FAMILIES = join(__dirname, '../../../fixtures/onnx/families');
  const plan = (f: string, tap?: string) => {
    const bytes = new Uint8Array(readFileSync(join(FAMILIES, f)));
    const ir = readOnnxModel(bytes, f);
    const convs = ir.nodes.filter((n) => n.op === 'Conv');
    return planOnnxArchitecture({
      bytes,
      file: f,
      classifier: null,
      tap: tap ?? convs[Math.floor(convs.length / 2)].outputs[0],
      imageSize: ir.input.shape[1],
      classes: 3,
      dataset: 'd',
      pretrained: false
    });
  };
  it.each([
    'alexnet.onnx',
    'densenet.onnx',
    'efficientnet.onnx',
    'googlenet.onnx',
    'mnasnet.onnx',
    'mobilenet_v2.onnx',
    'mobilenet_v3.onnx',
    'regnet.onnx',
    'resnet.onnx',
    'shufflenet.onnx',
    'shufflenet-opset17-static.onnx',
    'vgg.onnx'
  ])('%s compiles to a training step with its last Gemm replaced', (f) => {
    const p = plan(f);
    expect(p.classifier.op).toBe('Gemm');
    expect(p.ir.initializers.get(p.classifier.weight)!.dims[0]).toBe(3);
  });
  it('squeezenet: its 1x1 convolution to classes is the classifier (found, or named), resized to the classes', () => {
    const named = (classifier: string) =>
      planOnnxArchitecture({
        bytes: new Uint8Array(readFileSync(join(FAMILIES, 'squeezenet.onnx'))),
        file: 'squeezenet.onnx',
        classifier,
        tap: '/features/features.6/Concat_output_0',
        imageSize: 32,
        classes: 3,
        dataset: 'd',
        pretrained: false
      });
    for (const p of [
      plan('squeezenet.onnx', '/features/features.6/Concat_output_0'),
      named('/classifier/classifier.1/Conv')
    ]) {
      expect(p.classifier).toMatchObject({
        node: '/classifier/classifier.1/Conv',
        op: 'Conv',
        weight: 'classifier.1.weight',
        bias: 'classifier.1.bias',
        features: 32,
        outputs: 10,
        output: '/classifier/classifier.1/Conv_output_0',
        value: 'logits'
      });
      expect(p.ir.initializers.get('classifier.1.weight')!.dims).toEqual([3, 32, 1, 1]);
      expect(p.ir.initializers.get('classifier.1.bias')!.dims).toEqual([3]);
      expect(p.trainable).toContain('classifier.1.weight');
    }
    // A tap in the classifier's head (after it) is not a tap of the trunk.
    expect(() => plan('squeezenet.onnx', '/classifier/classifier.2/Relu_output_0')).toThrow(
      /tap '\/classifier\/classifier\.2\/Relu_output_0' is outside the trainable graph/
    );
    // A Conv that does not reach the output through pools and activations only cannot be the classifier.
    expect(() => named('/features/features.0/Conv')).toThrow(
      /node '\/features\/features\.0\/Conv' is a Conv; the classifier to replace must be a Gemm or MatMul, or a Conv whose output reaches .*\('\/features\/features\.3\/squeeze\/Conv', a Conv, reads what it computes\)/
    );
  });
});

describe('readOnnxModel on a Node Buffer', () => {
  it("reads raw tensor data at the tensor's offset (a Buffer's slice() is a view into the whole file)", () => {
    const buffer = readFileSync(join(DIR, 'tiny-arch.onnx'));
    const fromBuffer = readOnnxModel(buffer, 'f').initializers.get('conv1.weight')!.data as Float32Array;
    const fromCopy = readOnnxModel(Uint8Array.from(buffer), 'f').initializers.get('conv1.weight')!.data as Float32Array;
    expect(Array.from(fromBuffer)).toEqual(Array.from(fromCopy));
    // torch's default initialiser: U(-1/sqrt(27), 1/sqrt(27)) over 108 values
    const max = Math.max(...fromBuffer.map(Math.abs));
    expect(max).toBeLessThanOrEqual(1 / Math.sqrt(27));
    expect(max).toBeGreaterThan(0.1);
  });
});

describe('the configuration contract', () => {
  it('accepts { onnx, classifier? } and .onnx teacher files', () => {
    expect(OnnxArchitectureSchema.parse({ onnx: 'nets/resnet.onnx' })).toEqual({ onnx: 'nets/resnet.onnx' });
    expect(OnnxArchitectureSchema.safeParse({ onnx: 'nets/resnet.pt' }).success).toBe(false);
    expect(isOnnxFile('teacher.ONNX')).toBe(true);
    expect(isOnnxFile('models/teacher')).toBe(false);
  });
});
