#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, in one run: what the machine has, the CUDA
# test suite on the card (pytest -m gpu), the kernel benchmark, the host time
# of kernel launches and a short training run on "cuda". Logs go to $OUT (or ./gpu-check-out); the last lines
# printed are a summary.
#
#     bash tools/gpu_check.sh [pytest workers, default 8]
#
# Each stage has its own time limit, so a hang in one still leaves the others'
# logs. Uses the python3 on the PATH with its own numpy/numba/numba-cuda/CuPy.
set -u
cd "$(dirname "$0")/.."
OUT="${OUT:-$PWD/gpu-check-out}"
mkdir -p "$OUT"
WORKERS="${1:-8}"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export NUMBA_CACHE_DIR="${NUMBA_CACHE_DIR:-/tmp/tinygrad-bn-numba-cache}" TINYGRAD_BN_CACHE="${TINYGRAD_BN_CACHE:-/tmp/tinygrad-bn-cache}"
export HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}"
unset NUMBA_ENABLE_CUDASIM
start=$(date +%s)
stamp() { echo "[$(( $(date +%s) - start )) s] $*"; }

stamp "machine"
{
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
    python3 - <<'EOF'
import sys, numpy, numba, cupy
from numba import cuda
from importlib.metadata import version
print("python", sys.version.split()[0], "numpy", numpy.__version__, "numba", numba.__version__,
      "numba-cuda", version("numba-cuda"), "cupy", cupy.__version__)
print("numba.cuda.implementation:", getattr(cuda, "implementation", "built-in target"),
      "| available:", cuda.is_available())
dev = cuda.get_current_device()
print("device:", dev.name, "cc", dev.compute_capability, "SMs", dev.MULTIPROCESSOR_COUNT)
import tinygrad_bn as tg
print("tg.cuda.is_available():", tg.cuda.is_available(), "| simulated:", tg.cuda.is_simulated())
EOF
} 2>&1 | tee "$OUT/machine.txt"

stamp "CUDA tests on the card"
timeout "${TEST_LIMIT:-330}" python3 -m pytest -o addopts= -p no:cacheprovider -q -n "$WORKERS" -m gpu \
    -rfE --tb=short --durations=15 \
    tests/kernels/test_cuda_kernels.py tests/kernels/test_cuda_rms_norm.py tests/kernels/test_cuda_batch_renorm.py \
    tests/kernels/test_cuda_direct_launch.py \
    tests/backends/test_cuda_device.py tests/nn/test_losses.py tests/nn/test_parametrizations.py \
    tests/nn/test_activations.py >"$OUT/gpu_tests.log" 2>&1
echo "pytest exit status $?" >>"$OUT/gpu_tests.log"

stamp "kernel benchmark"
timeout "${BENCH_LIMIT:-150}" python3 benchmarks/bench_cuda.py --repeats 20 >"$OUT/bench_cuda.log" 2>&1
echo "bench exit status $?" >>"$OUT/bench_cuda.log"

stamp "host time of the launches"
timeout "${PROFILE_LIMIT:-60}" python3 benchmarks/profile_cuda_launch.py >"$OUT/profile.log" 2>&1
echo "profile exit status $?" >>"$OUT/profile.log"

stamp "training on cuda"
timeout "${TRAIN_LIMIT:-90}" python3 -c "from tinygrad_bn.cli import main; main()" train --device cuda \
    --model simplenet-bn --epochs 3 --no-progress --checkpoint /tmp/tinygrad-bn-gpu-check.npz >"$OUT/train.log" 2>&1
echo "train exit status $?" >>"$OUT/train.log"

stamp "done"
echo "=== tests";  grep -E "passed|failed|error|FAILED|ERROR|exit status" "$OUT/gpu_tests.log" | tail -25
echo "=== bench";  tail -30 "$OUT/bench_cuda.log"
echo "=== launches"; head -14 "$OUT/profile.log"
echo "=== train";  tail -6 "$OUT/train.log"
