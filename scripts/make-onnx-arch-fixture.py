#!/usr/bin/env python3
"""Writes tests/fixtures/onnx-arch/*.onnx once: tiny PyTorch exports for ONNX architectures (issue 17 section 3).

tiny-arch.onnx: conv-BN-ReLU-maxpool-conv-ReLU-global-average-pool-linear on 3x16x16 inputs (5 outputs),
exported at opset 13 from eval mode with TrainingMode.PRESERVE and without constant folding, so that
the BatchNormalization stays a node of its own (TrainingMode.EVAL folds it into the convolution) and
every weight stays an initializer. The refusal fixtures: no-classifier.onnx (no Gemm/MatMul), sin-op.onnx (a Sin between the
input and the classifier: an op without a gradient rule), size-24.onnx (fixed 24x24 input), softmax-out.onnx
(a Softmax after the classifier: a tap there is outside the trained graph).
Weights are drawn from torch.manual_seed(0); the files are a few KB. Licence: written for KD Lens (MIT).
Needs torch and onnx (Debian: apt-get install python3-torch python3-onnx); KD Lens itself never does.
"""
import pathlib

import onnx
import torch
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent.parent / 'tests' / 'fixtures' / 'onnx-arch'


class Tiny(nn.Module):
    def __init__(self, classifier=True, sin=False, softmax=False):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, 5) if classifier else None
        self.sin = sin
        self.softmax = softmax

    def forward(self, x):
        h = self.pool(torch.relu(self.bn1(self.conv1(x))))
        if self.sin:
            h = torch.sin(h)
        h = torch.flatten(self.gap(torch.relu(self.conv2(h))), 1)
        if self.fc is None:
            return h
        return torch.softmax(self.fc(h), 1) if self.softmax else self.fc(h)


def export(model, name, side):
    with torch.no_grad():  # a 'pretrained' batch norm: distinct values (torch merges equal initializers)
        model.bn1.weight.uniform_(0.5, 1.5)
        model.bn1.bias.uniform_(-0.2, 0.2)
        model.bn1.running_mean.uniform_(-0.1, 0.1)
        model.bn1.running_var.uniform_(0.5, 2.0)
    path = OUT / f'{name}.onnx'
    # An eval-mode model exported with TrainingMode.PRESERVE skips the eval peephole that folds a
    # BatchNormalization into the convolution before it (TrainingMode.EVAL runs it); and
    # do_constant_folding=False keeps every weight an initializer of its own.
    model.eval()
    torch.onnx.export(model, torch.randn(2, 3, side, side), path, opset_version=13,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    print(name, path.stat().st_size, 'bytes:', [f'{n.op_type}:{n.name}' for n in m.graph.node])
    print('  initializers:', [(i.name, list(i.dims)) for i in m.graph.initializer])


if __name__ == '__main__':
    OUT.mkdir(parents=True, exist_ok=True)
    for name, kw, side in [('tiny-arch', {}, 16), ('no-classifier', {'classifier': False}, 16),
                           ('sin-op', {'sin': True}, 16), ('size-24', {}, 24),
                           ('softmax-out', {'softmax': True}, 16)]:
        torch.manual_seed(0)
        export(Tiny(**kw), name, side)
