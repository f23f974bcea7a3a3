#!/usr/bin/env bash
# The GPU validation run (issue #7), prepared to run once on a lent GPU machine.
#
# It installs nothing and needs no network: it runs from this source tree with the machine's own
# torch, and reads MNIST from .data/mnist (git-ignored; copy ../shared/data/mnist there and name
# `.data` in the device tool's `carry`). Everything it produces goes under $OUT:
#   $OUT/env.txt            nvidia-smi, torch / CUDA / cuDNN versions, mnistbench env
#   $OUT/gpu-tests.log      the test suite's GPU tests (parity of every style on CUDA, CNNs)
#   $OUT/quick/             mnistbench run --profile quick --device cuda (results, report, logs)
#
#   OUT=/tmp/gpu bash bench/gpu_check.sh [seconds-for-the-quick-run]
set -u
OUT="${OUT:?set OUT to the output directory}"
QUICK_LIMIT="${1:-360}"
export PYTHONPATH="$PWD" PYTHONUNBUFFERED=1 MNISTBENCH_OFFLINE=1
export MNISTBENCH_TEST_DATA="$PWD/.data/mnist"
mkdir -p "$OUT"

{
    nvidia-smi
    python -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda,
          "cudnn", torch.backends.cudnn.version(), "gpu", torch.cuda.get_device_name(0))'
    python -m bench env
} > "$OUT/env.txt" 2>&1
cat "$OUT/env.txt"

# GPU tests only (the CPU suite runs in CI); -p no:cacheprovider keeps the tree clean.
python -m pytest -q -p no:cacheprovider -m gpu tests > "$OUT/gpu-tests.log" 2>&1
echo "gpu tests exit $?"; tail -n 15 "$OUT/gpu-tests.log"

# SIGINT at the limit: the run stops cleanly and saves a "partial" results.json.
timeout -s INT -k 30 "$QUICK_LIMIT" python -m bench run --profile quick --device cuda \
    --data-dir .data/mnist --out "$OUT/quick" 2> "$OUT/quick-stderr.log"
code=$?
echo "quick run exit $code"; tail -n 20 "$OUT/quick-stderr.log"
if [ "$code" -ne 0 ] && [ -f "$OUT/quick/results.json" ]; then
    python -m bench report "$OUT/quick/results.json"  # a report of what did finish
fi
ls -la "$OUT" "$OUT/quick" 2>/dev/null
