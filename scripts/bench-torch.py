#!/usr/bin/env python3
"""PyTorch CPU timings of the same steps as `kd-lens bench`, for comparison only.

Not a dependency of KD Lens: install Debian's python3-torch to run it
(`apt-get install -y python3-torch`, then `/usr/bin/python3 scripts/bench-torch.py [THREADS] [train]`).
Prints one JSON object shaped like `kd-lens bench --json`.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def reference_cnn(px):
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * (px // 8) ** 2, 10))


def timed(fn, runs, warmup):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main():
    runs, warmup = 5, 2
    threads = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1] != "-" else torch.get_num_threads()
    train_only = len(sys.argv) > 2 and sys.argv[2] == "train"  # `bench-torch.py 2 train`: only the train steps
    torch.set_num_threads(threads)
    results = []
    for px in (32, 64):
        model = reference_cnn(px)
        for p in model.parameters():
            p.requires_grad_(False)
        for k in (() if train_only else (8, 96)):
            for n in (1, 8):
                x = torch.randn(n, 3, px, px)
                clean = torch.relu(model(x)).detach()
                sigma = torch.full((n, 16, 16), 0.01, requires_grad=True)

                def step():
                    eps = torch.randn(n, k, 3, px, px)
                    up = sigma.repeat_interleave(px // 16, 1).repeat_interleave(px // 16, 2)
                    xp = (x[:, None] + up[:, None, None] * eps).reshape(n * k, 3, px, px)
                    phi = torch.relu(model(xp)).reshape(n, k, -1)
                    loss = ((phi - clean[:, None]) ** 2).mean(dim=(1, 2)).sum() - 7 * torch.log(sigma).mean(dim=(1, 2)).sum()
                    sigma.grad = None
                    loss.backward()

                ms = timed(step, runs, warmup)
                results.append({"task": "quantify", "px": px, "samples": k, "images": n, "msPerStep": ms, "imageStepsPerSec": n * 1000 / ms})
        model = reference_cnn(px)
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
        x = torch.randn(32, 3, px, px)
        y = torch.arange(32) % 10

        def train():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        ms = timed(train, runs, warmup)
        results.append({"task": "train", "px": px, "batch": 32, "msPerStep": ms, "imageStepsPerSec": 32 * 1000 / ms})
    print(json.dumps({"backend": f"pytorch-{torch.__version__}-cpu-{threads}threads", "results": results}))


if __name__ == "__main__":
    main()
