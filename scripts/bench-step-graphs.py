#!/usr/bin/env python3
"""Times the training-step graphs that `kd-lens bench --task train --save-graph DIR` wrote, under
Python's onnxruntime, on each execution provider it offers (CUDA where that build has it), and the
same step in PyTorch on each device it offers. For a machine without Node (a lent GPU machine):
`scripts/gpu-check.sh` runs it there. Not a dependency of KD Lens; nothing here is a test.

usage: bench-step-graphs.py DIR [RUNS]
Prints one JSON object: {"results": [{"engine", "provider" | "device", "px", "batch", "msPerStep"}, ...]}.
"""
import json
import os
import statistics
import sys
import time

import numpy as np

BATCH = 32


def timed(fn, runs, warmup=3, sync=lambda: None):
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def feeds_for(session, px, rng):
    """Random weights and batch for the step graph's inputs (the shapes it declares, N = BATCH)."""
    feeds = {}
    for i in session.get_inputs():
        shape = [BATCH if not isinstance(d, int) else d for d in i.shape]
        if i.name == "kd_x":
            shape = [BATCH, px, px, 3]
        if i.name == "kd_onehot":
            onehot = np.zeros(shape, np.float32)
            onehot[np.arange(BATCH), np.arange(BATCH) % shape[1]] = 1
            feeds[i.name] = onehot
        elif i.name == "kd_lr":
            feeds[i.name] = np.array(0.01, np.float32)
        elif i.name == "kd_clip":
            feeds[i.name] = np.array(0, np.float32)
        else:
            feeds[i.name] = (rng.standard_normal(shape) * 0.05).astype(np.float32)
    return feeds


def onnx_results(folder, runs):
    import onnxruntime as ort

    out = []
    for provider in ort.get_available_providers():
        if provider in ("AzureExecutionProvider",):
            continue
        for px in (32, 64):
            path = os.path.join(folder, f"train-step-{px}px.onnx")
            if not os.path.exists(path):
                continue
            try:
                session = ort.InferenceSession(path, providers=[provider])
            except Exception as err:  # a provider that cannot run the graph says why
                out.append({"engine": "onnxruntime", "provider": provider, "px": px, "error": str(err)[:300]})
                continue
            feeds = feeds_for(session, px, np.random.default_rng(px))
            ms = timed(lambda: session.run(None, feeds), runs)
            out.append({"engine": "onnxruntime", "provider": provider, "px": px, "batch": BATCH, "msPerStep": ms})
    return out


def torch_results(runs):
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except ImportError:
        return []
    out = []
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for device in devices:
        sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
        for px in (32, 64):
            model = nn.Sequential(
                nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Linear(64 * (px // 8) ** 2, 10)).to(device)
            opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
            x = torch.randn(BATCH, 3, px, px, device=device)
            y = torch.arange(BATCH, device=device) % 10

            def step():
                opt.zero_grad()
                F.cross_entropy(model(x), y).backward()
                opt.step()

            ms = timed(step, runs, sync=sync)
            out.append({"engine": f"pytorch-{torch.__version__}", "device": device, "px": px, "batch": BATCH, "msPerStep": ms})
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    print(json.dumps({"results": onnx_results(sys.argv[1], runs) + torch_results(runs)}))


if __name__ == "__main__":
    main()
