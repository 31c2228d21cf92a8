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
import json
import pathlib

import onnx
from onnx import numpy_helper
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


def steps():
    """tiny-arch-steps.json: 3 full-batch SGD steps of tiny-arch.onnx's network in torch's train mode.

    The classifier is replaced by a seeded Linear(6, 3) (its start values are written), the batch is
    8 images x[i, r, c, k] = sin(7i + 3r + 5c + k) (NHWC, as KD Lens feeds them) with labels i % 3, SGD lr 0.05, momentum 0.9,
    weight decay 5e-4 (torch.optim.SGD, dampening 0): the loss of every step and the final weights,
    against which the ONNX-architecture trainer is checked step by step.
    """
    torch.manual_seed(0)
    model = Tiny()
    with torch.no_grad():
        model.bn1.weight.uniform_(0.5, 1.5)
        model.bn1.bias.uniform_(-0.2, 0.2)
        model.bn1.running_mean.uniform_(-0.1, 0.1)
        model.bn1.running_var.uniform_(0.5, 2.0)
    # The same weights as the exported file (export() draws them in the same order from seed 0).
    exported = onnx.load(OUT / 'tiny-arch.onnx')
    state = {i.name: torch.tensor(numpy_helper.to_array(i)) for i in exported.graph.initializer}
    model.load_state_dict({k: state[k] if k in state else v for k, v in model.state_dict().items()})
    # x[i, r, c, k] = sin(7i + 3r + 5c + k), computed in float64 and rounded to float32 (the test does the same)
    i, r, c, k = torch.meshgrid(*(torch.arange(n, dtype=torch.float64) for n in (8, 16, 16, 3)), indexing='ij')
    x = torch.sin(7 * i + 3 * r + 5 * c + k).float()
    # Var_T of the tap '/Relu_1' (the file's weights, inference mode) over the 8 images: the
    # per-element population variance over images, averaged over the elements.
    model.eval()
    with torch.no_grad():
        h = model.pool(torch.relu(model.bn1(model.conv1(x.permute(0, 3, 1, 2)))))
        tap = torch.relu(model.conv2(h)).flatten(1).double()
        tap_variance = tap.var(0, unbiased=False).mean().item()
    torch.manual_seed(1)
    model.fc = nn.Linear(6, 3)
    start = {'fc.weight': model.fc.weight.detach().flatten().tolist(), 'fc.bias': model.fc.bias.detach().tolist()}
    labels = torch.arange(8) % 3
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    model.train()
    losses = []
    for _ in range(3):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x.permute(0, 3, 1, 2)), labels)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out = {'tapVariance': tap_variance, 'labels': labels.tolist(), 'start': start, 'losses': losses,
           'final': {k: v.detach().flatten().tolist() for k, v in model.state_dict().items()
                     if k in ('conv1.weight', 'bn1.weight', 'bn1.bias', 'conv2.weight', 'fc.weight', 'fc.bias', 'bn1.running_mean')}}
    (OUT / 'tiny-arch-steps.json').write_text(json.dumps(out))
    print('steps: losses', losses)


if __name__ == '__main__':
    steps()
