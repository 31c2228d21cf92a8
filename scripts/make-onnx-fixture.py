#!/usr/bin/env python3
"""Writes tests/fixtures/onnx/{tiny,ops}-torch.onnx and their .expected.json once.

A small PyTorch CNN (conv + BN + ReLU, max pool, strided padded conv + Hardswish, a 1x1 conv and
average-pool branch, Concat, LeakyReLU, Flatten, Linear), exported by torch.onnx.export at opset 13
with a dynamic batch axis, and torch's own forward output and input gradient of sum(logits * dy)
for fixed inputs, so the test checks the ONNX compiler against an independent autograd.
ops-torch.onnx (opset 17, BN after an activation so that it stays a BatchNormalization) reaches more
ops (transposed, dilated and grouped convolutions, activations, padded pools, MatMul). The list of
supported ops lives in src/engine/onnx/rules/index.ts (SUPPORTED_OPS) and the README; the model
families are exported by make-onnx-families.py.
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


class Ops(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 3, padding=2, dilation=2)
        self.bn = nn.BatchNorm2d(6)
        self.depthwise = nn.Conv2d(6, 6, 3, padding=1, groups=6)
        self.up = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.avg = nn.AvgPool2d(3, stride=1, padding=1)
        self.w = nn.Parameter(torch.randn(8, 5) * 0.3)
        self.fc = nn.Linear(4 * 9 * 9, 8)

    def forward(self, x):
        h = self.bn(nn.functional.hardswish(self.conv(x)))
        h = torch.clamp(self.depthwise(h), 0, 6) - 0.5
        h = torch.sigmoid(h) * torch.tanh(h / 2.0)
        h = nn.functional.elu(self.up(h))
        h = torch.softmax(self.avg(self.pool(h)), dim=1)
        h = nn.functional.pad(h.permute(0, 1, 3, 2), (1, 0, 0, 1))
        g = torch.flatten(nn.functional.adaptive_avg_pool2d(h, 1), 1)
        side = torch.cat([g, g], dim=1).unsqueeze(1).squeeze(1)
        y = self.fc(h.reshape(-1, 4 * 9 * 9)) + side
        return torch.relu(y) @ self.w


def export(model, name, x, opset, **kw):
    model.eval()
    path = str(OUT / f'{name}.onnx')
    torch.onnx.export(model, x, path, opset_version=opset, input_names=['input'], output_names=['logits'], dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, **kw)
    onnx.checker.check_model(onnx.load(path))
    x = x.clone().requires_grad_(True)
    f = model(x)
    dy = torch.randn(f.shape)
    (f * dy).sum().backward()
    expected = {'input': x.detach().flatten().tolist(), 'inputShape': list(x.shape), 'tap': 'logits', 'outputShape': list(f.shape), 'dy': dy.flatten().tolist(), 'f': f.detach().flatten().tolist(), 'dx': x.grad.flatten().tolist()}
    (OUT / f'{name}.expected.json').write_text(json.dumps(expected))
    print(name, 'ops:', sorted({n.op_type for n in onnx.load(path).graph.node}))


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
    export(model, 'tiny-torch', torch.randn(2, 3, 12, 12), 13)
    ops = Ops()
    with torch.no_grad():
        ops.bn.running_mean.uniform_(-0.5, 0.5)
        ops.bn.running_var.uniform_(0.5, 1.5)
    export(ops, 'ops-torch', torch.randn(2, 3, 8, 8), 17)


if __name__ == '__main__':
    main()
