#!/usr/bin/env bash
# The prepared GPU check of issue 17 (section 5), for a session lent a GPU machine: one call, no
# network. Prepare here (this machine has Node):
#   KD_LENS_ORT_NCHWC=0 node bin/kd-lens.cjs bench --task train --engine onnx --no-stock --workers 0 --save-graph .gpu/graphs
#   (KD_LENS_ORT_NCHWC=0: the graphs as compiled; on the CPU provider they are saved with the blocked
#   convolutions of src/engine/onnx/blocked-conv.ts, contrib ops that only ONNX Runtime's CPU provider runs)
#   echo /.gpu/ >> .git/info/exclude
# then run on the device with `.gpu` carried: `bash scripts/gpu-check.sh .gpu/graphs`.
# It prints (and writes under $OUT when set) the GPU, the ONNX Runtime providers its Python build
# offers, the saved training-step graphs timed on each of them against PyTorch on the CPU and the
# GPU (scripts/bench-step-graphs.py), and, where Node is there, `kd-lens bench --device gpu`
# (ONNX Runtime's WebGPU provider and TF.js's webgpu backend).
set -uo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-.gpu/graphs}"
OUTDIR="${OUT:-/tmp/kd-lens-gpu-check}"
mkdir -p "$OUTDIR"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 | tee "$OUTDIR/gpu.txt"
python3 -c "import onnxruntime as o; print('onnxruntime', o.__version__, o.get_available_providers())" 2>&1 | tee -a "$OUTDIR/gpu.txt"
if [ ! -f "$DIR/train-step-32px.onnx" ]; then
  echo "no step graphs in $DIR: write them with kd-lens bench --save-graph (see the top of this file)" >&2
  exit 2
fi
PYTHONUNBUFFERED=1 python3 scripts/bench-step-graphs.py "$DIR" 50 | tee "$OUTDIR/step-graphs.json"
if command -v node >/dev/null 2>&1 && [ -d node_modules/onnxruntime-node ]; then
  node bin/kd-lens.cjs bench --task all --device gpu --no-stock --workers 0 --json | tee "$OUTDIR/kd-lens-bench-gpu.json"
else
  echo "no Node or node_modules here: the WebGPU provider's bench (kd-lens bench --device gpu) needs them carried" | tee -a "$OUTDIR/gpu.txt"
fi
