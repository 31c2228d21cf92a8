#!/usr/bin/env python3
"""Writes tests/fixtures/onnx-arch/dropout-arch.onnx and dropout-arch-step.json once (issue 17: dropout masks).

dropout-arch.onnx: conv-BN-ReLU-global-average-pool-Dropout(0.25)-linear on 3x8x8 inputs (3 outputs),
exported at opset 13 from a model in train() with TrainingMode.PRESERVE (torch drops Dropout nodes
from an eval-mode export): the Dropout reads a constant ratio and a constant training_mode (a bool)
and the BatchNormalization writes its running statistics as extra outputs, as such exports do.

dropout-arch-step.json: one SGD step of that network in torch's train mode (batch statistics) on
4 images x[i, r, c, k] = sin(7i + 3r + 5c + k) (NHWC, as KD Lens feeds them), labels i % 3, with
the dropout mask KD Lens draws for step seed SEED (its Rng, xoshiro128** seeded by splitmix32,
re-implemented below: element 1 / keep when the next uniform is below keep = 1 - rate, else 0), SGD
lr 1, momentum 0.9, no weight decay: the loss, each parameter's gradient, the batch norm's running
statistics after the step, and the eval-mode logits of the file's weights (no dropout).
Weights from torch.manual_seed(0); the batch norm's made distinct (torch merges equal initializers).
Licence: written for KD Lens (MIT). Needs torch and onnx (Debian: python3-torch python3-onnx).
"""
import json
import pathlib

import onnx
from onnx import numpy_helper
import torch
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent.parent / 'tests' / 'fixtures' / 'onnx-arch'
SEED = 20261206
M = 0xFFFFFFFF


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.bn = nn.BatchNorm2d(4)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(4, 3)

    def features(self, x):
        return torch.flatten(self.gap(torch.relu(self.bn(self.conv(x)))), 1)

    def forward(self, x):
        return self.fc(self.drop(self.features(x)))


def rotl(x, k):
    return ((x << k) | (x >> (32 - k))) & M


class Rng:
    """KD Lens's src/engine/util/random.ts Rng (uniform only), written again from its description."""

    def __init__(self, seed):
        s = seed & M
        words = []
        for _ in range(4):
            s = (s + 0x9E3779B9) & M
            z = s
            z = ((z ^ (z >> 16)) * 0x85EBCA6B) & M
            z = ((z ^ (z >> 13)) * 0xC2B2AE35) & M
            words.append(z ^ (z >> 16))
        self.a, self.b, self.c, self.d = words
        if (self.a | self.b | self.c | self.d) == 0:
            self.a = 1

    def uniform(self):
        result = (rotl((self.b * 5) & M, 7) * 9) & M
        t = (self.b << 9) & M
        self.c ^= self.a
        self.d ^= self.b
        self.b ^= self.c
        self.a ^= self.d
        self.c ^= t
        self.d = rotl(self.d, 11)
        return result / 4294967296


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = Net()
    with torch.no_grad():
        model.bn.weight.uniform_(0.5, 1.5)
        model.bn.bias.uniform_(-0.2, 0.2)
        model.bn.running_mean.uniform_(-0.1, 0.1)
        model.bn.running_var.uniform_(0.5, 2.0)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    path = OUT / 'dropout-arch.onnx'
    model.train()
    torch.onnx.export(model, torch.randn(2, 3, 8, 8), path, opset_version=13,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    m = onnx.load(path)
    # The export ran a forward in train mode, which moved the running statistics: the file's values are the start.
    saved = {i.name: torch.tensor(numpy_helper.to_array(i)) for i in m.graph.initializer}
    model.load_state_dict({k: saved.get(k, v) for k, v in start.items()})
    onnx.checker.check_model(m)
    print(path.name, path.stat().st_size, 'bytes:', [f'{n.op_type}:{n.name}' for n in m.graph.node])

    n = 4
    i, r, c, k = torch.meshgrid(*(torch.arange(v, dtype=torch.float64) for v in (n, 8, 8, 3)), indexing='ij')
    x = torch.sin(7 * i + 3 * r + 5 * c + k).float().permute(0, 3, 1, 2)
    labels = torch.arange(n) % 3
    model.eval()
    with torch.no_grad():
        eval_logits = model(x)
    keep = 1 - 0.25
    rng = Rng(SEED)
    mask = torch.tensor([1 / keep if rng.uniform() < keep else 0.0 for _ in range(n * 4)],
                        dtype=torch.float32).reshape(n, 4)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=1.0, momentum=0.9)
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model.fc(model.features(x) * mask), labels)
    loss.backward()
    grads = {name: p.grad.flatten().tolist() for name, p in model.named_parameters()}
    opt.step()
    out = {
        'seed': SEED, 'labels': labels.tolist(), 'mask': mask.flatten().tolist(), 'loss': loss.item(),
        'grads': grads,
        'runningMean': model.bn.running_mean.tolist(), 'runningVar': model.bn.running_var.tolist(),
        'evalLogits': eval_logits.flatten().tolist(),
    }
    (OUT / 'dropout-arch-step.json').write_text(json.dumps(out))
    print('loss', loss.item(), 'mask', out['mask'])


if __name__ == '__main__':
    main()
