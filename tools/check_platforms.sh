#!/usr/bin/env bash
# `cargo check` of the crate (library and CLI) for Windows (x86_64-pc-windows-gnu: DX12, Vulkan,
# GL) and macOS on Apple silicon (aarch64-apple-darwin: Metal), from a Linux machine without
# those targets in rustup: Debian's rustc-web and its standard-library source build std for any
# target LLVM knows (RUSTC_BOOTSTRAP=1 -Zbuild-std). Checking needs no linker, but two build
# scripts (psm and stacker, under npyz's parser) assemble or compile a little C for the target:
# mingw-w64 does it for Windows, clang for macOS. The MSVC target is not checked: stacker's C
# needs the Windows SDK's headers, which Linux has no package for.
#
# Usage: tools/check_platforms.sh   (installs what it needs with apt-get when run as root)
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/rustc ] && [ -d /usr/lib/rustlib/src/rust/library ] || need+=(rustc-web cargo-web rust-web-src)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
command -v clang-19 >/dev/null || need+=(clang-19)
command -v llvm-ar-19 >/dev/null || command -v llvm-ar >/dev/null || need+=(llvm-19)
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
AR=$(command -v llvm-ar-19 || command -v llvm-ar)

# Debian's toolchain, not rustup's shims (which shadow it on PATH and lack these targets).
export RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/platforms"
export CC_x86_64_pc_windows_gnu=x86_64-w64-mingw32-gcc AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar
export CC_aarch64_apple_darwin=clang-19 AR_aarch64_apple_darwin="$AR"
for target in x86_64-pc-windows-gnu aarch64-apple-darwin; do
    echo "== cargo check --target $target (library and CLI)"
    /usr/bin/cargo check --locked --lib --bins --target "$target" -Zbuild-std=std,panic_abort
done
# The browser build (wasm32-unknown-unknown: WebGPU) is a full build, not a check:
# web/build.sh, which CI runs before the browser test.
