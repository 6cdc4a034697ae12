#!/usr/bin/env bash
# install-deps.sh - install the Debian packages Sentinel needs, and only the missing ones.
#
# Usage: scripts/install-deps.sh [build|test]...
#   build  compiler, CMake, OpenBLAS, libjpeg-turbo, libspng, zlib, protobuf-c, the ONNX
#          schema and FFmpeg's libraries (the default)
#   test   build + Criterion, clang and clang's runtime (libFuzzer, sanitizers), python3-venv
#
# Written for Debian 12 (bookworm); other apt-based systems with the same package names work too.
# Each package is checked with dpkg-query first: when everything is there the script only reads
# the package database (well under a second) and changes nothing. Otherwise it runs apt-get
# update once and installs the missing packages non-interactively, as root or through sudo.
#
# The CUDA toolkit is optional and NOT installed here (it does not come from Debian's main
# archive). When a toolkit is found at configure time (nvcc on PATH or in /usr/local/cuda) the
# GPU backend is built; without one the CPU-only runtime is built, and everything else works.
#
# SENTINEL_SKIP_DEPS=1 skips this script entirely (for machines where you manage packages).
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config libopenblas-dev libopenblas-openmp-dev libjpeg-dev
            libspng-dev zlib1g-dev protobuf-c-compiler libprotobuf-c-dev libonnx-dev libssl-dev
            libexif-dev)
# libopenblas-openmp-dev: OpenBLAS built for OpenMP, which shares the CPU backend's OpenMP
# threads instead of running a competing pool of its own (CMakeLists.txt links it by path).
# libjpeg-dev pulls in libjpeg62-turbo-dev on Debian. The ONNX importer's C code is generated at
# build time by protoc-c (protobuf-c-compiler) from the onnx.proto that libonnx-dev installs
# (/usr/include/onnx/onnx.proto); libprotobuf-c-dev is its runtime. libssl-dev: the GPU backend's
# kernel cache keys entries by SHA-256 from OpenSSL's libcrypto (only used when CUDA is found).
# libexif-dev: the EXIF orientation tag of JPEG photos, so pictures taken with the camera turned
# are fed to the model upright (loader/image_orient.c).
TEST_PKGS=(libcriterion-dev clang llvm python3-venv)
# clang is the only compiler libFuzzer works with; its fuzzer and sanitizer runtime
# (libclang-rt-<major>-dev) and OpenMP runtime (libomp-<major>-dev) are resolved below from the
# clang that gets installed (14 on Debian 12). llvm puts llvm-symbolizer on PATH, so sanitizer
# reports from clang builds (the fuzzer's) name functions and lines. python3-venv: the ONNX
# parity tests build a virtual environment (onnx, onnxruntime, numpy from PyPI) under the build
# folder; see scripts/setup-python-env.sh.
# Best effort, with `test`: Debian's PyTorch and torchvision (about 150 MB to download), with which
# the ONNX parity tests also export real torchvision models (ResNet-18, MobileNetV2, ...). If they
# cannot be installed the script goes on and those tests skip, saying why. SENTINEL_SKIP_TORCH=1
# leaves them out.
TORCH_PKGS=(python3-torch python3-torchvision)
# FFmpeg's libraries (build group): video files, streams and V4L2 cameras as input
# (loader/video*.c); CMake builds without video input when they are missing, but `make test`
# should cover it. The tests write their clips with these libraries' own encoders (mpeg4,
# mjpeg, ffv1), so the ffmpeg program itself is not needed.
BUILD_PKGS+=(libavformat-dev libavcodec-dev libavdevice-dev libavutil-dev libswscale-dev)

say() { printf 'install-deps: %s\n' "$*"; }
die() { printf 'install-deps: error: %s\n' "$*" >&2; exit 1; }

want_build=0 want_test=0
[ $# -eq 0 ] && want_build=1
for arg in "$@"; do
    case "$arg" in
        build) want_build=1 ;;
        test) want_build=1; want_test=1 ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown group '$arg' (expected: build, test)" ;;
    esac
done

if [ "${SENTINEL_SKIP_DEPS:-0}" = 1 ]; then
    say "SENTINEL_SKIP_DEPS=1: not checking packages"
    exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    # Not Debian-like: say what is needed and let CMake report anything actually missing.
    pkgs=("${BUILD_PKGS[@]}"); [ $want_test = 1 ] && pkgs+=("${TEST_PKGS[@]}")
    say "warning: no dpkg/apt-get here; install the equivalents of: ${pkgs[*]}"
    exit 0
fi

is_installed() {
    [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]
}

SUDO=()
updated=0
install_missing() {
    local missing=() p
    for p in "$@"; do is_installed "$p" || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0

    if [ ${#SUDO[@]} -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 ||
            die "missing packages: ${missing[*]}; run this script as root or install sudo"
        # Without a terminal sudo cannot ask for a password: fail instead of hanging.
        if [ -t 0 ]; then SUDO=(sudo); else SUDO=(sudo -n); fi
    fi
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    if [ $updated = 0 ]; then
        "${SUDO[@]}" apt-get update -q ||
            die "apt-get update failed (as $(id -un)${SUDO:+ via sudo}); missing: ${missing[*]}"
        updated=1
    fi
    "${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
        die "apt-get install failed; missing: ${missing[*]}"
}

if [ $want_build = 1 ]; then
    install_missing "${BUILD_PKGS[@]}"
fi
if [ $want_test = 1 ]; then
    install_missing "${TEST_PKGS[@]}"
    major=$(clang -dumpversion 2>/dev/null | cut -d. -f1)
    [ -n "$major" ] || die "clang was installed but 'clang -dumpversion' gives nothing"
    install_missing "libclang-rt-${major}-dev" "libomp-${major}-dev"
    if [ "${SENTINEL_SKIP_TORCH:-0}" != 1 ]; then
        ( install_missing "${TORCH_PKGS[@]}" ) ||
            say "warning: could not install ${TORCH_PKGS[*]}; the torchvision ONNX tests will skip"
    fi
fi

if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
    say "packages ok; CUDA toolkit found: CMake will build with CUDA support"
else
    say "packages ok; no CUDA toolkit (optional, not installed by this script): CPU-only build"
fi
