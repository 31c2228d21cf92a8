#!/usr/bin/env python3
"""Writes tests/fixtures/study/ once: a tiny dataset and a teacher, a student and a baseline trained
in PyTorch, exported per analysed epoch to ONNX, with the path-length logs, for `kd-lens analyse`.

The dataset (3 classes of bright shapes on noise, 16 px, exact masks; 10 train + 3 val images per
class) is written as a KD Lens dataset folder (dataset.json, images/, masks/). The networks: conv
(3->4) pool conv (4->8) pool flatten fc1 (128->16) relu fc2 (16->3). The teacher learns the labels;
the student mimics the teacher's fc1 (MSE, all layers up to fc1: the analysed epochs), then its fc2
learns the labels (final.onnx); the baseline learns the labels from scratch. The path length of
fc1.weight is logged per optimiser step (README, "Analysing networks trained elsewhere").
Exports use opset 13, a fixed batch of 1 and torch.flatten (Conv, Relu, MaxPool, Flatten, Gemm
only). expected.json holds torch's validation accuracy of each final network; bad/ holds exports that a
study must refuse (another architecture, no fc1 node, four outputs).
Needs Debian's python3-torch and python3-pil; KD Lens itself never does. Licence: MIT, as KD Lens.
"""
import json
import pathlib

import numpy as np
import torch
from PIL import Image
from torch import nn

OUT = pathlib.Path(__file__).resolve().parent.parent / 'tests' / 'fixtures' / 'study'
SIZE, CLASSES, TRAIN, VAL = 16, ['square', 'cross', 'bar'], 10, 3
EPOCHS, ANALYSED = 6, [0, 1, 2, 4, 6]
MEAN, STD = 0.5, 0.25


def shape_mask(kind, r0, c0, side):
    m = np.zeros((SIZE, SIZE), np.uint8)
    mid = side // 2
    for r in range(side):
        for c in range(side):
            on = kind == 0 or (kind == 1 and (abs(r - mid) <= 1 or abs(c - mid) <= 1)) or (kind == 2 and abs(r - mid) <= 1)
            if on:
                m[r0 + r, c0 + c] = 1
    return m


def write_dataset(rng):
    root = OUT / 'dataset'
    (root / 'images').mkdir(parents=True, exist_ok=True)
    (root / 'masks').mkdir(parents=True, exist_ok=True)
    samples, xs, ys, splits = [], [], [], []
    for k, name in enumerate(CLASSES):
        for i in range(TRAIN + VAL):
            sid = f'{name}-{i}'
            side = int(round(SIZE * (0.45 + 0.2 * rng.random())))
            r0, c0 = rng.integers(SIZE - side + 1), rng.integers(SIZE - side + 1)
            mask = shape_mask(k, r0, c0, side)
            tint = rng.integers(0, 120, 3)
            rgb = np.minimum(255, tint + rng.integers(0, 80, (SIZE, SIZE, 3))).astype(np.uint8)
            rgb[mask == 1] = rng.integers(200, 256, (int(mask.sum()), 3))
            Image.fromarray(rgb).save(root / 'images' / f'{sid}.png')
            Image.fromarray(mask * 255).save(root / 'masks' / f'{sid}.png')
            split = 'train' if i < TRAIN else 'val'
            samples.append({'id': sid, 'image': f'images/{sid}.png', 'mask': f'masks/{sid}.png', 'label': k,
                            'split': split, 'box': None, 'crop': None, 'maskOrigin': 'segmentation',
                            'source': {'file': f'{sid}.png', 'object': 0}, 'edited': False})
            xs.append((rgb.astype(np.float32) / 255 - MEAN) / STD)
            ys.append(k)
            splits.append(split)
    manifest = {'version': 1, 'id': 'torch-shapes', 'name': 'torch-shapes', 'format': 'folder',
                'sourcePath': 'tests/fixtures/study/dataset', 'createdAt': '2026-12-06T00:00:00.000Z',
                'size': SIZE, 'classes': CLASSES, 'samples': samples, 'options': {}, 'skipped': []}
    (root / 'dataset.json').write_text(json.dumps(manifest, indent=1) + '\n')
    x = torch.tensor(np.stack(xs)).permute(0, 3, 1, 2).contiguous()
    y = torch.tensor(ys)
    train = torch.tensor([s == 'train' for s in splits])
    return x[train], y[train], x[~train], y[~train]


class Net(nn.Module):
    def __init__(self, hidden=16, outputs=len(CLASSES)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(8 * (SIZE // 4) ** 2, hidden)
        self.fc2 = nn.Linear(hidden, outputs)

    def features(self, x):
        h = self.pool(torch.relu(self.conv1(x)))
        h = self.pool(torch.relu(self.conv2(h)))
        return self.fc1(torch.flatten(h, 1))

    def forward(self, x):
        return self.fc2(torch.relu(self.features(x)))


class Renamed(Net):
    """The same layers, but fc1 is called 'hidden' (its node is /hidden/Gemm: the tap is missing)."""

    def __init__(self):
        super().__init__()
        self.hidden = self.fc1
        del self.fc1

    def features(self, x):
        h = self.pool(torch.relu(self.conv1(x)))
        h = self.pool(torch.relu(self.conv2(h)))
        return self.hidden(torch.flatten(h, 1))


def export(net, file):
    file.parent.mkdir(parents=True, exist_ok=True)
    net.eval()
    torch.onnx.export(net, torch.zeros(1, 3, SIZE, SIZE), str(file), opset_version=13,
                      input_names=['input'], output_names=['logits'])


def train(net, params, loss_fn, x, y, epochs, folder=None, lr=0.05):
    """SGD; with a folder: exports the analysed epochs and writes path-length.csv of fc1.weight."""
    opt = torch.optim.SGD(params, lr=lr, momentum=0.9)
    w0 = net.fc1.weight.detach().norm().item()
    path, rows = 0.0, [(0, 0.0)]
    analysed = [net.fc1.weight.detach().clone()]
    if folder and 0 in ANALYSED:
        export(net, folder / 'epoch-0.onnx')
    g = torch.Generator().manual_seed(1)
    for epoch in range(1, epochs + 1):
        net.train()
        for idx in torch.randperm(len(x), generator=g).split(10):
            before = net.fc1.weight.detach().clone()
            opt.zero_grad()
            loss_fn(net, x[idx], y[idx]).backward()
            opt.step()
            path += (net.fc1.weight.detach() - before).norm().item()
        rows.append((epoch, path / w0))
        if folder and epoch in ANALYSED:
            export(net, folder / f'epoch-{epoch}.onnx')
            analysed.append(net.fc1.weight.detach().clone())
    if folder:
        (folder / 'path-length.csv').write_text('epoch,path_length\n' + ''.join(f'{e},{p:.9g}\n' for e, p in rows))
    # The per-checkpoint approximation a study computes without the log, for the test.
    steps = [(b - a).norm().item() for a, b in zip(analysed, analysed[1:])]
    return [sum(steps[:i]) / analysed[0].norm().item() for i in range(len(analysed))]


def accuracy(net, x, y):
    net.eval()
    with torch.no_grad():
        return (net(x).argmax(1) == y).float().mean().item()


def main():
    torch.manual_seed(0)
    x, y, vx, vy = write_dataset(np.random.default_rng(0))
    ce = lambda net, xb, yb: nn.functional.cross_entropy(net(xb), yb)
    teacher = Net()
    train(teacher, teacher.parameters(), ce, x, y, 20)
    export(teacher, OUT / 'teacher' / f'epoch-20.onnx')
    teacher.eval()

    student = Net()
    below = [p for n, p in student.named_parameters() if not n.startswith('fc2')]
    mimic = lambda net, xb, yb: nn.functional.mse_loss(net.features(xb), teacher.features(xb).detach())
    approx_student = train(student, below, mimic, x, y, EPOCHS, OUT / 'student')
    train(student, student.fc2.parameters(), ce, x, y, 4)
    export(student, OUT / 'student' / 'final.onnx')

    baseline = Net()
    approx_baseline = train(baseline, baseline.parameters(), ce, x, y, EPOCHS, OUT / 'baseline')

    expected = {'accuracy': {'teacher': accuracy(teacher, vx, vy), 'student': accuracy(student, vx, vy),
                             'baseline': accuracy(baseline, vx, vy)}, 'val': len(vy),
                'checkpointPathLength': {'student': approx_student, 'baseline': approx_baseline}}
    (OUT / 'expected.json').write_text(json.dumps(expected, indent=1) + '\n')
    study = {'dataset': 'torch-shapes', 'name': 'torch shapes', 'tap': '/fc1/Gemm',
             'normalization': {'mean': [MEAN] * 3, 'std': [STD] * 3},
             'quantification': {'grid': 4, 'samples': 4, 'steps': 10, 'images': 4, 'batch': 2,
                                'stopPastTarget': False, 'maskRule': 'top-left'},
             'workers': 1}
    (OUT / 'study.json').write_text(json.dumps(study, indent=1) + '\n')
    # Bad inputs (random weights): another architecture, a missing tap, four outputs for three classes.
    export(Net(hidden=24), OUT / 'bad' / 'wide.onnx')
    export(Renamed(), OUT / 'bad' / 'renamed.onnx')
    export(Net(outputs=4), OUT / 'bad' / 'four-outputs.onnx')


def main_bench(out):
    """--bench DIR (not committed): the closing note's timing study at 32 px, a teacher, two students
    (feature mimicry; logit KD at T = 4) and a baseline with 10 analysed checkpoints each."""
    global OUT, SIZE, TRAIN, VAL, EPOCHS, ANALYSED
    OUT, SIZE, TRAIN, VAL, EPOCHS, ANALYSED = pathlib.Path(out), 32, 30, 5, 9, list(range(10))
    torch.manual_seed(0)
    x, y, _, _ = write_dataset(np.random.default_rng(0))
    ce = lambda net, xb, yb: nn.functional.cross_entropy(net(xb), yb)
    teacher = Net()
    train(teacher, teacher.parameters(), ce, x, y, 15, lr=0.01)
    export(teacher, OUT / 'teacher' / 'epoch-15.onnx')
    teacher.eval()
    feature = Net()
    mimic = lambda net, xb, yb: nn.functional.mse_loss(net.features(xb), teacher.features(xb).detach())
    # The feature loss is divided by the teacher feature's variance (as KD Lens's stage 1), else it kills the net.
    var = teacher.features(x).detach().var().item()
    scaled = lambda net, xb, yb: mimic(net, xb, yb) / var
    train(feature, [p for n, p in feature.named_parameters() if not n.startswith('fc2')], scaled, x, y, EPOCHS,
          OUT / 'student-feature', lr=0.01)
    train(feature, feature.fc2.parameters(), ce, x, y, 4)
    export(feature, OUT / 'student-feature' / 'final.onnx')
    logit = Net()
    kd = lambda net, xb, yb: nn.functional.kl_div(nn.functional.log_softmax(net(xb) / 4, 1),
                                                  nn.functional.softmax(teacher(xb).detach() / 4, 1),
                                                  reduction='batchmean')
    train(logit, logit.parameters(), kd, x, y, EPOCHS, OUT / 'student-logit', lr=0.01)
    baseline = Net()
    train(baseline, baseline.parameters(), ce, x, y, EPOCHS, OUT / 'baseline', lr=0.01)
    study = {'dataset': 'torch-shapes', 'name': 'bench', 'tap': '/fc1/Gemm',
             'normalization': {'mean': [MEAN] * 3, 'std': [STD] * 3},
             'quantification': {'grid': 8, 'samples': 32}, 'workers': 2}
    (OUT / 'study.json').write_text(json.dumps(study, indent=1) + '\n')


if __name__ == '__main__':
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == '--bench':
        main_bench(sys.argv[2])
    else:
        main()
