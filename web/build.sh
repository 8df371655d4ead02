#!/usr/bin/env bash
# Builds the web page and its JavaScript module into web/dist/: the wgcnn library compiled to
# wasm32-unknown-unknown (WebGPU and the CPU reference), wasm-bindgen's glue, wgcnn.js (the
# API), the page, and the bundled models (CIFAR-10, MobileNetV2) with Keras's outputs. Any static file server can serve web/dist/.
#
# Usage: web/build.sh [--serve [PORT]]   (--serve then serves it on http://localhost:PORT,
#                                          8000 by default; WebGPU needs localhost or https)
#
# The toolchain, in the first form found:
#  - rustup with the wasm32-unknown-unknown target (`rustup target add wasm32-unknown-unknown`);
#  - Debian's rustc-web, which builds the standard library for wasm32 from its source
#    (RUSTC_BOOTSTRAP=1 -Zbuild-std); installed with apt-get when run as root.
# wasm-bindgen-cli of the version web/Cargo.lock pins: the one on PATH if it matches, else
# installed with `cargo install` into web/target/tools.
set -euo pipefail
cd "$(dirname "$0")"
web=$PWD
dist=$web/dist
target=wasm32-unknown-unknown
export CARGO_TARGET_DIR="${WGCNN_WEB_TARGET_DIR:-$web/target}"

serve=""
port=8000
while [ $# -gt 0 ]; do
    case "$1" in
        --serve) serve=1; if [[ "${2:-}" =~ ^[0-9]+$ ]]; then port=$2; shift; fi ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "web/build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done

# --- compile the library to wasm32 -------------------------------------------------------------
if command -v rustup >/dev/null && rustup target list --installed 2>/dev/null | grep -qx "$target"; then
    echo "== cargo build --target $target (rustup)"
    cargo build --release --locked --target "$target"
else
    if ! { [ -x /usr/bin/rustc ] && /usr/bin/rustc --print target-list | grep -qx "$target" \
           && [ -d /usr/lib/rustlib/src/rust/library ] && command -v wasm-ld-19 >/dev/null; }; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            echo "== installing Debian's rustc-web (wasm32 standard library from source) and lld"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends rustc-web cargo-web rust-web-src lld-19 >/dev/null
        else
            echo "web/build.sh: no Rust toolchain for $target: run 'rustup target add $target'" \
                 "(or, on Debian as root, let this script install rustc-web)" >&2
            exit 1
        fi
    fi
    echo "== cargo build --target $target (Debian rustc-web, std built from source)"
    # Debian's cargo and rustc, not rustup's shims that shadow them on PATH.
    RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19 \
        /usr/bin/cargo build --release --locked --target "$target" -Zbuild-std=std,panic_abort
fi
wasm="$CARGO_TARGET_DIR/$target/release/wgcnn_web.wasm"

# --- wasm-bindgen's JavaScript glue -------------------------------------------------------------
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
bindgen=""
for candidate in wasm-bindgen "$CARGO_TARGET_DIR/tools/bin/wasm-bindgen"; do
    if command -v "$candidate" >/dev/null && [ "$("$candidate" --version | awk '{print $2}')" = "$version" ]; then
        bindgen=$candidate
        break
    fi
done
if [ -z "$bindgen" ]; then
    echo "== cargo install wasm-bindgen-cli $version (once, into $CARGO_TARGET_DIR/tools)"
    cargo install --quiet wasm-bindgen-cli --version "=$version" --root "$CARGO_TARGET_DIR/tools"
    bindgen="$CARGO_TARGET_DIR/tools/bin/wasm-bindgen"
fi
echo "== wasm-bindgen $version"
rm -rf "$dist"
mkdir -p "$dist/pkg" "$dist/models"
"$bindgen" --target web --out-dir "$dist/pkg" --out-name wgcnn_wasm "$wasm"

# --- the page, the module and the bundled model -------------------------------------------------
cp static/* "$dist/"
cp ../models/cifar10.keras ../models/cifar10.input.npy ../models/cifar10.output.npy \
    ../models/mobilenetv2.json ../models/mobilenetv2.output.npy "$dist/models/"
echo "== built $dist ($(du -sh "$dist" | cut -f1)): index.html, wgcnn.js, pkg/wgcnn_wasm_bg.wasm"

if [ -n "$serve" ]; then
    echo "== serving $dist on http://localhost:$port (Ctrl-C stops)"
    exec python3 -m http.server --bind 127.0.0.1 --directory "$dist" "$port"
fi
