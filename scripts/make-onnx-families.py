#!/usr/bin/env python3
"""Writes tests/fixtures/onnx/families/: one small torch.onnx.export of each model family of issue 18.

Random weights (seed 0), small inputs. Every model is built from torchvision 0.14's own classes and
blocks (its forward, its blocks, its exporter path), reduced in width and depth so that each file
stays a few tens of kB; the README's "ONNX model families" section lists what each one is. Each
export is checked with onnx.checker, and torch's own numbers are written beside it:
  <name>.onnx        the model (input 'input' [batch, 3, S, S], output 'logits')
  <name>.json        {family, opset, batch: 'dynamic'|'static', inputShape, outputShape, ops, f}
  <name>.dx.npy      the gradient of sum(f * dy) with respect to the input (float32, NCHW)
  and in the .json, 'step': the sigma step's loss and gradient for one image (see sigma_step).
The input and dy are closed forms the tests recompute: x[i] = sin(0.37 i + 0.1), dy[i] = cos(0.11 i)
over the flattened (C-order) tensor, in float32. Needs python3-torch, python3-torchvision and
python3-onnx (Debian); KD Lens itself never does. Run: /usr/bin/python3 scripts/make-onnx-families.py
"""
import importlib
import json
import pathlib

import numpy as np
import onnx
import torch
from torch import nn

# torchvision.models re-exports functions named like some of its modules (alexnet, googlenet): take the modules.
(tv_alexnet, densenet, efficientnet, googlenet, mnasnet, mobilenetv2, mobilenetv3, regnet, resnet, shufflenetv2,
 squeezenet, vgg) = (importlib.import_module(f'torchvision.models.{m}') for m in [
    'alexnet', 'densenet', 'efficientnet', 'googlenet', 'mnasnet', 'mobilenetv2', 'mobilenetv3', 'regnet', 'resnet',
    'shufflenetv2', 'squeezenet', 'vgg'])

OUT = pathlib.Path(__file__).resolve().parent.parent / 'tests' / 'fixtures' / 'onnx' / 'families'


def bare(cls):
    """An instance of a torchvision class without running its (full-size) constructor."""
    m = cls.__new__(cls)
    nn.Module.__init__(m)
    return m


def make_resnet():
    m = bare(resnet.ResNet)
    m._norm_layer, m.inplanes, m.dilation, m.groups, m.base_width = nn.BatchNorm2d, 8, 1, 1, 64
    m.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
    m.bn1, m.relu, m.maxpool = nn.BatchNorm2d(8), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)
    m.layer1 = m._make_layer(resnet.BasicBlock, 8, 1)
    m.layer2 = m._make_layer(resnet.BasicBlock, 16, 1, stride=2)
    m.layer3 = m._make_layer(resnet.Bottleneck, 8, 1, stride=2)
    m.layer4 = nn.Identity()
    m.avgpool, m.fc = nn.AdaptiveAvgPool2d((1, 1)), nn.Linear(32, 10)
    return m


def make_vgg():
    m = bare(vgg.VGG)
    m.features = vgg.make_layers([8, 'M', 16, 'M', 16, 16, 'M'], batch_norm=True)
    m.avgpool = nn.AdaptiveAvgPool2d((2, 2))
    m.classifier = nn.Sequential(nn.Linear(64, 32), nn.ReLU(True), nn.Dropout(), nn.Linear(32, 10))
    return m


def make_alexnet():
    m = bare(tv_alexnet.AlexNet)
    m.features = nn.Sequential(
        nn.Conv2d(3, 8, 11, 4, 2), nn.ReLU(True), nn.MaxPool2d(3, 2),
        nn.Conv2d(8, 12, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(3, 2),
        nn.Conv2d(12, 16, 3, padding=1), nn.ReLU(True), nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(True),
        nn.MaxPool2d(3, 2))
    m.avgpool = nn.AdaptiveAvgPool2d((1, 1))
    m.classifier = nn.Sequential(nn.Dropout(), nn.Linear(16, 32), nn.ReLU(True), nn.Linear(32, 10))
    return m


def make_mobilenet_v2():
    return mobilenetv2.MobileNetV2(num_classes=10, width_mult=0.25,
                                   inverted_residual_setting=[[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 1, 2]])


def make_mobilenet_v3():
    c = mobilenetv3.InvertedResidualConfig
    setting = [c(16, 3, 16, 16, True, 'RE', 2, 1, 0.5), c(16, 3, 48, 24, False, 'RE', 2, 1, 0.5),
               c(24, 5, 64, 24, True, 'HS', 1, 1, 0.5), c(24, 3, 48, 32, True, 'HS', 2, 1, 0.5)]
    return mobilenetv3.MobileNetV3(setting, last_channel=64, num_classes=10)


def make_efficientnet():
    c = efficientnet.MBConvConfig
    setting = [c(1, 3, 1, 32, 16, 1, 0.25), c(6, 3, 2, 16, 24, 2, 0.25), c(6, 5, 2, 24, 40, 1, 0.25)]
    return efficientnet.EfficientNet(setting, dropout=0.2, num_classes=10, last_channel=64)


def make_densenet():
    return densenet.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2, num_classes=10)


def make_regnet():
    params = regnet.BlockParams.from_init_params(depth=3, w_0=8, w_a=8.0, w_m=2.0, group_width=8, se_ratio=0.25)
    return regnet.RegNet(params, num_classes=10, stem_width=8)


def make_shufflenet():
    return shufflenetv2.ShuffleNetV2([1, 2, 1], [8, 16, 32, 64, 64], num_classes=10)


def make_mnasnet():
    m = mnasnet.MNASNet(0.1, num_classes=10)
    # The family's last 1x1 convolution to 1280 channels, narrowed to 32 (it alone held most of the weights).
    m.layers[-3], m.layers[-2] = nn.Conv2d(m.layers[-3].in_channels, 32, 1, bias=False), nn.BatchNorm2d(32)
    m.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(32, 10))
    return m


class Idioms(nn.Module):
    """Not a family: the PyTorch idioms and ops the families' exports rarely reach, in one small net."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 36, 10)

    def forward(self, x):
        h = self.conv(x)
        a, b = torch.split(h, [3, 5], dim=1)
        h = torch.cat([torch.sqrt(a * a + 1), torch.exp(-b.pow(2)) * torch.log(b * b + 2)], 1)
        h = nn.functional.avg_pool2d(h, 3, 2, ceil_mode=True)
        h = nn.functional.max_pool2d(h, 3, 2, ceil_mode=True)
        s = h.sum(dim=1, keepdim=True)
        m = h.amax(dim=(2, 3), keepdim=True)
        h = nn.functional.gelu(h) * torch.sigmoid(s) / (1 + m * m) - h.mean(dim=1, keepdim=True)
        h = h + m.expand(-1, -1, h.shape[2], h.shape[3]) + torch.zeros_like(h)
        w = h.view(h.size(0), h.shape[1], -1).softmax(-1)
        return self.fc(w.view(w.size(0), -1))


def make_googlenet():
    m = bare(googlenet.GoogLeNet)
    m.aux_logits, m.transform_input = False, True
    m.conv1 = googlenet.BasicConv2d(3, 8, kernel_size=7, stride=2, padding=3)
    m.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
    m.conv2 = googlenet.BasicConv2d(8, 8, kernel_size=1)
    m.conv3 = googlenet.BasicConv2d(8, 16, kernel_size=3, padding=1)
    m.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
    m.inception3a = googlenet.Inception(16, 8, 4, 8, 2, 4, 4)
    m.inception3b = googlenet.Inception(24, 8, 4, 8, 2, 4, 4)
    m.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
    m.inception4a = googlenet.Inception(24, 8, 4, 8, 2, 4, 4)
    for name in ['inception4b', 'inception4c', 'inception4d', 'inception4e', 'inception5a', 'inception5b']:
        setattr(m, name, nn.Identity())
    m.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
    m.aux1 = m.aux2 = None
    m.avgpool, m.dropout, m.fc = nn.AdaptiveAvgPool2d((1, 1)), nn.Dropout(0.2), nn.Linear(24, 10)
    return m


def make_squeezenet():
    m = bare(squeezenet.SqueezeNet)
    m.num_classes = 10
    m.features = nn.Sequential(
        nn.Conv2d(3, 16, 3, stride=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
        squeezenet.Fire(16, 4, 8, 8), squeezenet.Fire(16, 4, 8, 8), nn.MaxPool2d(3, 2, ceil_mode=True),
        squeezenet.Fire(16, 8, 16, 16))
    m.classifier = nn.Sequential(nn.Dropout(0.5), nn.Conv2d(32, 10, 1), nn.ReLU(inplace=True),
                                 nn.AdaptiveAvgPool2d((1, 1)))
    return m


# name, builder, input size, opset, dynamic batch
FAMILIES = [
    ('resnet', make_resnet, 32, 13, True),
    ('vgg', make_vgg, 32, 13, True),
    ('alexnet', make_alexnet, 64, 13, True),
    ('mobilenet_v2', make_mobilenet_v2, 32, 13, True),
    ('densenet', make_densenet, 32, 13, True),
    ('regnet', make_regnet, 32, 13, True),
    ('mobilenet_v3', make_mobilenet_v3, 32, 13, True),
    ('mobilenet_v3-opset17-static', make_mobilenet_v3, 32, 17, False),
    ('efficientnet', make_efficientnet, 32, 13, True),
    ('efficientnet-opset17', make_efficientnet, 32, 17, True),
    ('shufflenet', make_shufflenet, 32, 13, True),
    ('shufflenet-opset17-static', make_shufflenet, 32, 17, False),
    ('mnasnet', make_mnasnet, 32, 13, True),
    ('googlenet', make_googlenet, 32, 13, True),
    ('squeezenet', make_squeezenet, 32, 13, True),
    ('idioms', Idioms, 24, 13, True),
    ('idioms-opset11', Idioms, 24, 11, True),
    ('idioms-opset17', Idioms, 24, 17, True),
]

BATCH = 2


def closed_form(shape, rate, phase, fn):
    i = np.arange(int(np.prod(shape)), dtype=np.float64)
    return torch.from_numpy(fn(rate * i + phase).astype(np.float32).reshape(shape))


def calibrate_norms(model, size):
    """BatchNorm as after training: random scales and shifts, and running statistics measured on
    random images (without this, a random deep net's eval-mode activations vanish through depth and
    its logits hardly depend on the input)."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    with torch.no_grad():
        for m in norms:
            m.weight.uniform_(0.6, 1.4)
            m.bias.uniform_(-0.3, 0.3)
            m.reset_running_stats()
            m.momentum = None
        model.train()
        for _ in range(4):
            model(torch.randn(8, 3, size, size))
    model.eval()


# The sigma step of method.md section 1 (one image, NHWC as KD Lens feeds it), for the tests to compare:
# L = mean_{k,e} (phi(x + up(sigma) eps_k) - phi(x))^2 / sigma_f2 - lambda (mean_cells log sigma + log(2 pi e) / 2),
# phi = relu(logits), up = nearest upsampling (pixel r in cell floor(r G / size)), and dL/dsigma.
STEP = {'grid': 4, 'samples': 3, 'lambda': 0.1}


def sigma_step(model, size):
    g, k = STEP['grid'], STEP['samples']
    x = closed_form((size, size, 3), 0.37, 0.1, np.sin)
    eps = closed_form((k, size, size, 3), 0.13, 0.2, np.cos) * 1.5
    sigma = (0.2 + 0.03 * torch.arange(g * g, dtype=torch.float32)).reshape(g, g).requires_grad_(True)
    cell = torch.tensor([r * g // size for r in range(size)])
    up = sigma[cell][:, cell]
    phi = lambda v: torch.relu(model(v.permute(0, 3, 1, 2))).flatten(1)
    clean = phi(x[None]).detach()
    diff = phi(x[None] + up[None, :, :, None] * eps) - clean
    entropy = torch.log(sigma).mean() + 0.5 * np.log(2 * np.pi * np.e)
    # sigma_f2 makes the feature term 1 at this sigma (as KD Lens's normaliser does at sigma_init), so
    # that it, not the entropy term, dominates the gradient.
    sigma_f2 = float(np.float32(f'{(diff ** 2).mean().item():.6g}'))
    loss = (diff ** 2).mean() / sigma_f2 - STEP['lambda'] * entropy
    loss.backward()
    return {**STEP, 'sigmaF2': sigma_f2, 'loss': loss.item(), 'grad': [round(v, 8) for v in sigma.grad.flatten().tolist()]}


def export(name, build, size, opset, dynamic):
    torch.manual_seed(0)
    model = build()
    calibrate_norms(model, size)
    x = closed_form((BATCH, 3, size, size), 0.37, 0.1, np.sin)
    path = OUT / f'{name}.onnx'
    axes = {'input': {0: 'batch'}, 'logits': {0: 'batch'}} if dynamic else None
    torch.onnx.export(model, x, str(path), opset_version=opset, input_names=['input'], output_names=['logits'],
                      dynamic_axes=axes)
    proto = onnx.load(str(path))
    onnx.checker.check_model(proto)
    x = x.clone().requires_grad_(True)
    f = model(x)
    dy = closed_form(tuple(f.shape), 0.11, 0.0, np.cos)
    (f * dy).sum().backward()
    ops = sorted({n.op_type for n in proto.graph.node})
    meta = {'family': name.split('-')[0], 'opset': opset, 'batch': 'dynamic' if dynamic else 'static',
            'inputShape': list(x.shape), 'outputShape': list(f.shape), 'ops': ops,
            'f': [round(v, 7) for v in f.detach().flatten().tolist()]}
    np.save(OUT / f'{name}.dx.npy', x.grad.numpy().astype(np.float32))
    meta['step'] = sigma_step(model, size)
    (OUT / f'{name}.json').write_text(json.dumps(meta) + '\n')
    params = sum(p.numel() for p in model.parameters())
    print(f'{name}: {params} parameters, {path.stat().st_size} bytes, ops {ops}')


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for family in FAMILIES:
        export(*family)


if __name__ == '__main__':
    main()
