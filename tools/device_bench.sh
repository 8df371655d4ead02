#!/usr/bin/env bash
# The GPU benchmarks of issue 16 on one machine, JSON out: the nine Conv2D workloads and four
# keras.applications models at batch 1 and 32, each on wgcnn's GPU backend with host and device
# time (`bench --json`: one line per backend and clock), two row reductions (LayerNormalization
# 8 × 197 × 768, softmax 256 × 1000), then the same work on PyTorch (cuDNN, fp32) and Keras 3 on
# JAX where those are installed (tools/device_anchors.py). log.txt keeps the autotuner's
# measurements: each Conv2D variant's and row layout's device time, per shape.
#
# Made for a GPU machine without a Rust toolchain: build the binary here, carry it (and the
# Vulkan loader, if the machine lacks one) with the architectures:
#     cargo build --release && python3 tools/gen_bench_configs.py     # -> .bench/models/*.json
#     tools/device_bench.sh [BINARY] [OUT_DIR]
# Environment: MODELS (folder of architecture JSONs, default .bench/models), REPEAT (timed runs,
# default 10), QUICK=1 (two workloads, one model at batch 1, 2 runs: a dry run on a software
# adapter), NO_ANCHORS=1 (skip PyTorch and Keras).
# Writes OUT_DIR/{adapters.txt, conv2d.jsonl, models.jsonl, rows.jsonl, anchors.jsonl,
# autotune.json, log.txt}.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=${1:-target/release/wgcnn}
OUT_DIR=${2:-${OUT:-.bench/out}}
MODELS=${MODELS:-.bench/models}
REPEAT=${REPEAT:-10}
mkdir -p "$OUT_DIR"
# A fresh autotune cache, returned with the results: which variant won where.
export WGCNN_CACHE_DIR="$OUT_DIR/cache"
rm -rf "$WGCNN_CACHE_DIR"
log() { echo "== $*" | tee -a "$OUT_DIR/log.txt" >&2; }

# NHWC input, filters, kernel, strides, padding: the issue's table, in its order.
WORKLOADS=(
    "32,32,32,32 32 3,3 1,1 valid"
    "32,15,15,32 64 3,3 1,1 same"
    "1,224,224,64 64 3,3 1,1 valid"
    "1,54,54,128 256 3,3 1,1 same"
    "8,200,200,1 16 2,2 2,2 valid"
    "32,56,56,64 64 3,3 1,1 same"
    "32,28,28,128 512 1,1 1,1 valid"
    "8,224,224,64 64 3,3 1,1 same"
    "32,224,224,3 64 7,7 2,2 same"
)
NETS=(resnet50 mobilenetv2 efficientnetb0 vgg16)
BATCHES=(1 32)
# One-layer models and their batch: how softmax and LayerNormalization cover long rows.
ROWS=("ln768 8" "softmax1000 256")
if [ "${QUICK:-}" = 1 ]; then
    WORKLOADS=("${WORKLOADS[@]:0:2}")
    NETS=(mobilenetv2)
    BATCHES=(1)
    REPEAT=2
fi
# The autotuner logs every candidate's time at debug level (into log.txt, with stderr).
export RUST_LOG=${RUST_LOG:-wgcnn=debug}

log "adapters"
"$BIN" adapters >"$OUT_DIR/adapters.txt" 2>&1
cat "$OUT_DIR/adapters.txt" >&2
: >"$OUT_DIR/conv2d.jsonl"
: >"$OUT_DIR/models.jsonl"
: >"$OUT_DIR/rows.jsonl"
failed=0
for w in "${WORKLOADS[@]}"; do
    read -r shape filters kernel strides padding <<<"$w"
    log "conv2d $w"
    "$BIN" bench conv2d --input-shape "$shape" --filters "$filters" --kernel-size "$kernel" \
        --strides "$strides" --padding "$padding" --backend gpu --repeat "$REPEAT" --warmup 3 \
        --json >>"$OUT_DIR/conv2d.jsonl" 2>>"$OUT_DIR/log.txt" || { log "FAILED: conv2d $w"; failed=1; }
done
for net in "${NETS[@]}"; do
    for batch in "${BATCHES[@]}"; do
        log "$net batch $batch"
        "$BIN" bench "$MODELS/$net.json" --synthetic-weights --batch-size "$batch" --backend gpu \
            --repeat "$REPEAT" --warmup 2 --json >>"$OUT_DIR/models.jsonl" 2>>"$OUT_DIR/log.txt" \
            || { log "FAILED: $net batch $batch"; failed=1; }
    done
done
for r in "${ROWS[@]}"; do
    read -r net batch <<<"$r"
    log "$net batch $batch"
    "$BIN" bench "$MODELS/$net.json" --synthetic-weights --batch-size "$batch" --backend gpu \
        --repeat "$REPEAT" --warmup 2 --json >>"$OUT_DIR/rows.jsonl" 2>>"$OUT_DIR/log.txt" \
        || { log "FAILED: $net batch $batch"; failed=1; }
done
cp "$WGCNN_CACHE_DIR/autotune.json" "$OUT_DIR/autotune.json" 2>/dev/null || true
rm -rf "$WGCNN_CACHE_DIR"

if [ -z "${NO_ANCHORS:-}" ] && python3 -c "import torch" 2>/dev/null; then
    log "anchors: PyTorch (and Keras on JAX if installed)"
    python3 tools/device_anchors.py --repeat "$REPEAT" --nets "${NETS[@]}" --batches "${BATCHES[@]}" \
        --workloads "${WORKLOADS[@]}" >"$OUT_DIR/anchors.jsonl" 2>>"$OUT_DIR/log.txt" \
        || { log "FAILED: anchors"; failed=1; }
fi
log "done (failures: $failed); results in $OUT_DIR"
exit $failed
