#!/usr/bin/env bash
# Every CUDA check of i2p in one go, for a GPU machine lent for a few minutes (no internet).
# Logs land in $OUT (or ./cuda-checks). Needs the teaching data already built (open3d
# builds it; the GPU machines lack open3d): carry an archive of the three teaching caches as
# .devcarry/data.tar.xz, made here with
#   tar cJf .devcarry/data.tar.xz -C ~/.cache/i2p/data <the synth_*-teaching-<hash> folders>
# (the folders that loading each data set's teaching splits builds).
# Optional: spconv for the side-by-side conv comparison, as .whl/sp.tar.xz (the unpacked
# spconv-cu121 and cumm-cu121 wheels, xz-compressed) plus their pure-Python dependencies as
# wheels in .whl/ (pccm ccimport fire lark portalocker termcolor). Carry .whl and .devcarry.
# Runs with the machine's own torch: PYTHONPATH=. instead of an install.
set -u
OUT=${OUT:-cuda-checks}; mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD I2P_DATA=${I2P_DATA:-/tmp/i2pdata} PYTHONWARNINGS=ignore
step() { echo; echo "=== $* ($(date +%T))"; }
step machine
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0), 'bf16', torch.cuda.is_bf16_supported())"
if [ -f .devcarry/data.tar.xz ] && [ ! -d "$I2P_DATA" ]; then mkdir -p "$I2P_DATA" && tar xJf .devcarry/data.tar.xz -C "$I2P_DATA"; fi
step "CUDA tests (pytest -m cuda)"
timeout 150 python3 -m pytest -q -p no:cacheprovider -n 8 -m cuda tests/test_sparse_conv.py tests/test_precision.py tests/test_backend.py 2>&1 | tail -n 30 | tee "$OUT/tests_cuda.log"
cd benchmarks
for algo in table gather; do
  step "sparse_conv.py --device cuda --precision bf16 --algorithm $algo"
  timeout 60 python3 sparse_conv.py --device cuda --precision bf16 --algorithm $algo 2>&1 | tee "$OUT/sparse_conv_$algo.log"
done
step "train_step.py --device cuda (bf16), every case, no profiler"
timeout 150 python3 train_step.py --device cuda --repeats 10 --no-breakdown 2>&1 | tee "$OUT/train_step_bf16.log"
if [ -f ../.whl/sp.tar.xz ]; then  # spconv-cu121 + cumm-cu121 unpacked (xz: the wheels exceed the carry limit)
  step "spconv_compare.py"
  mkdir -p /tmp/site && tar xJf ../.whl/sp.tar.xz -C /tmp/site && \
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site ../.whl/*.whl >/dev/null 2>&1
  PYTHONPATH=/tmp/site:$PYTHONPATH timeout 60 python3 spconv_compare.py --device cuda 2>&1 | tee "$OUT/spconv_compare.log"
fi
cd ..
step "end-to-end runs on CUDA"
for args in "teaching/t1.scratch.modelnet40 recipe.precision=fp16" "teaching/t1.io_bn.modelnet40 model.source=random recipe.precision=bf16" \
            "teaching/t1.scratch.s3dis recipe.precision=bf16"; do
  timeout 100 python3 -m i2p train $args seeds=[0] recipe.epochs=2 device=cuda --store /tmp/cuda-runs --no-progress 2>&1 | tail -n 4
done | tee "$OUT/train_runs.log"
step "torchrun (nccl), one process"
timeout 100 torchrun --standalone --nproc_per_node=1 -m i2p train teaching/t1.scratch.modelnet40 seeds=[1] recipe.epochs=1 device=cuda \
  --store /tmp/cuda-runs --no-progress 2>&1 | tail -n 6 | tee "$OUT/torchrun.log"
cd benchmarks
step "sparse_conv.py --device cuda --precision fp16"
timeout 90 python3 sparse_conv.py --device cuda --precision fp16 2>&1 | tail -n 6 | tee "$OUT/sparse_conv_fp16.log"
step "train_step.py --device cuda --low fp16, with the time breakdown of one case"
timeout 120 python3 train_step.py --device cuda --repeats 10 --low fp16 --cases resnet18-unet/kitti 2>&1 | tee "$OUT/train_step_fp16.log"
cd ..
step "training and precision tests with CUDA present (device auto = cuda)"
timeout 150 python3 -m pytest -q -p no:cacheprovider -n 12 tests/test_train.py tests/test_precision.py tests/test_finetune.py tests/test_models.py 2>&1 | tail -n 40 | tee "$OUT/tests_train.log"
step done
