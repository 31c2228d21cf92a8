#!/usr/bin/env python3
"""Writes tests/fixtures/onnx-arch/untrained-bn.onnx once: an untrained conv-BN-ReLU-pool-linear network on
3x16x16 inputs, exported as make-onnx-arch-fixture.py exports (opset 13, TrainingMode.PRESERVE, no constant
folding). Its fresh batch norm has scale = running variance = 1 and bias = running mean = 0, so torch merges
the equal initializers and the running statistics become Identity nodes of the scale and bias: the form's
check (src/host/onnx-models.ts) must answer that with a refusal naming the file, never a server error.
Weights from torch.manual_seed(0); about 2 KB. Licence: written for KD Lens (MIT).
Needs torch and onnx (Debian: apt-get install python3-torch python3-onnx); KD Lens itself never does.
"""
import pathlib

import onnx
import torch
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent.parent / 'tests' / 'fixtures' / 'onnx-arch' / 'untrained-bn.onnx'

if __name__ == '__main__':
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 3)).eval()
    torch.onnx.export(model, torch.randn(2, 3, 16, 16), OUT, opset_version=13,
                      input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}},
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
    m = onnx.load(OUT)
    onnx.checker.check_model(m)
    print(OUT.name, OUT.stat().st_size, 'bytes:', [f'{n.op_type}:{n.name}' for n in m.graph.node])
