#!/usr/bin/env python3
"""Writes tests/fixtures/train/torch-sgd.json once: a tiny CNN trained 6 steps by PyTorch.

conv 3x3 (3->4, padding 1) + ReLU, max pool 2, conv 3x3 (4->6, padding 1) + ReLU, global average
pool, Linear (6->3); cross-entropy on labels; torch.optim.SGD(lr, momentum 0.9, weight_decay), the
optimiser KD Lens's stages copy. The file holds the initial weights (torch layout), the batches
(NCHW), the labels, the loss at every step and the final weights, so the test trains the same
network on KD Lens's ONNX engine and compares step by step with an independent autograd.
Needs Debian's python3-torch (apt-get install python3-torch); KD Lens itself never does.
"""
import json
import pathlib

import torch
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent.parent / 'tests' / 'fixtures' / 'train' / 'torch-sgd.json'


def main():
    torch.manual_seed(7)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3))
    lr, momentum, weight_decay, steps, batch = 0.1, 0.9, 5e-3, 6, 4
    initial = {k: v.detach().clone() for k, v in model.state_dict().items()}
    x = torch.randn(steps, batch, 3, 8, 8)
    labels = torch.randint(0, 3, (steps, batch))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    losses = []
    for s in range(steps):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x[s]), labels[s])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    rows = lambda t: [round(float(v), 8) for v in t.flatten().tolist()]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        'torch': torch.__version__,
        'lr': lr, 'momentum': momentum, 'weightDecay': weight_decay,
        'initial': {k: {'shape': list(v.shape), 'values': rows(v)} for k, v in initial.items()},
        'x': {'shape': list(x.shape), 'values': rows(x)},
        'labels': labels.tolist(),
        'losses': losses,
        'final': {k: {'shape': list(v.shape), 'values': rows(v)} for k, v in model.state_dict().items()},
    }))


if __name__ == '__main__':
    main()
