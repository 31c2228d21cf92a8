#!/usr/bin/env python3
"""Writes tests/fixtures/onnx/tiny-torch.onnx and tiny-torch.expected.json once.

A small PyTorch CNN (conv + BN + ReLU, max pool, strided padded conv + Hardswish, a 1x1 conv and
average-pool branch, Concat, LeakyReLU, Flatten, Linear), exported by torch.onnx.export at opset 13
with a dynamic batch axis, and torch's own forward output and input gradient of sum(logits * dy)
for fixed inputs, so the test checks the ONNX compiler against an independent autograd.
Needs torch and onnx (Debian: apt-get install python3-torch python3-onnx); KD Lens itself never does.
"""
import json
import pathlib

import onnx
import torch
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent.parent / 'tests' / 'fixtures' / 'onnx'


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 8, 3, stride=2, padding=1)
        self.side = nn.Conv2d(6, 4, 1)
        self.avg = nn.AvgPool2d(2)
        self.fc = nn.Linear(12 * 3 * 3, 10)

    def forward(self, x):
        h = self.pool(torch.relu(self.bn1(self.conv1(x))))
        a = nn.functional.hardswish(self.conv2(h))
        b = self.avg(self.side(h))
        y = nn.functional.leaky_relu(torch.cat([a, b], dim=1), 0.1)
        return self.fc(torch.flatten(y, 1))


def main():
    torch.manual_seed(0)
    model = Tiny()
    with torch.no_grad():
        model.bn1.running_mean.uniform_(-0.5, 0.5)
        model.bn1.running_var.uniform_(0.5, 1.5)
        model.bn1.weight.uniform_(0.5, 1.5)
        model.bn1.bias.uniform_(-0.5, 0.5)
    model.eval()
    OUT.mkdir(parents=True, exist_ok=True)
    x = torch.randn(2, 3, 12, 12)
    torch.onnx.export(model, x, str(OUT / 'tiny-torch.onnx'), opset_version=13, input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    onnx.checker.check_model(onnx.load(str(OUT / 'tiny-torch.onnx')))
    x.requires_grad_(True)
    dy = torch.randn(2, 10)
    f = model(x)
    (f * dy).sum().backward()
    expected = {'input': x.detach().flatten().tolist(), 'inputShape': list(x.shape), 'tap': 'logits', 'dy': dy.flatten().tolist(), 'f': f.detach().flatten().tolist(), 'dx': x.grad.flatten().tolist()}
    (OUT / 'tiny-torch.expected.json').write_text(json.dumps(expected))
    print('ops:', sorted({n.op_type for n in onnx.load(str(OUT / 'tiny-torch.onnx')).graph.node}))


if __name__ == '__main__':
    main()
