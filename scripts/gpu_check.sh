#!/usr/bin/env bash
# The GPU path, checked in one call on a lent GPU machine (docs/backends.md, "The GPU path").
#
#   bash scripts/gpu_check.sh --prepare        # here: fills .gpu/ (ignored by git), ~40 MB
#   bash scripts/gpu_check.sh --run "$OUT"     # there, with .gpu carried; about 2 minutes
#
# --prepare bundles scripts/gpu_check.ts with tfjs into one file (the GPU machine reaches no
# registry), compresses the Deno binary (96 MB, over the 64 MiB a call carries) and fetches
# the Vulkan loader's Debian package. --run records the machine (nvidia-smi, Vulkan ICDs), the
# WebGPU adapter and 50 paper-LeNet clustering steps on webgpu timed by phase, then PyTorch's
# network step on CUDA and on the CPU, all under the given directory.
set -euo pipefail
cd "$(dirname "$0")/.."

case "${1:-}" in
--prepare)
  mkdir -p .gpu
  deno bundle -q --platform deno scripts/gpu_check.ts -o .gpu/gpu_check.js
  deno_bin=$(deno eval 'console.log(Deno.execPath())')
  xz -T0 -6 -c "$deno_bin" > .gpu/deno.xz
  (cd .gpu && rm -f ./*.deb && apt-get download libvulkan1 >/dev/null)
  du -sh .gpu/*
  ;;
--run)
  out=${2:?usage: gpu_check.sh --run <output directory>}
  mkdir -p "$out"
  [ -f .gpu/deno.xz ] || { echo "gpu_check: .gpu/deno.xz missing: run --prepare and carry .gpu" >&2; exit 2; }
  xz -dc .gpu/deno.xz > /tmp/deno && chmod +x /tmp/deno
  if ! ldconfig -p | grep -q libvulkan.so.1; then
    for f in .gpu/*.deb; do dpkg -x "$f" /; done
    ldconfig
  fi
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  [ -f "$icd" ] && export VK_DRIVER_FILES="$icd"
  export XDG_RUNTIME_DIR=/tmp
  {
    nvidia-smi -L || true
    ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>&1 || true
    echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
  } > "$out/system.txt" 2>&1
  timeout 300 /tmp/deno run -A .gpu/gpu_check.js --backends webgpu --steps "${GPU_CHECK_STEPS:-50}" \
    --out "$out/webgpu.json" 2>&1 | tee "$out/webgpu.log" || true
  timeout 120 python3 python/bench_torch.py --models paper-lenet --device cuda --steps "${GPU_CHECK_STEPS:-50}" \
    > "$out/torch_cuda.jsonl" 2>&1 || true
  timeout 120 python3 python/bench_torch.py --models paper-lenet --steps 20 --threads all \
    > "$out/torch_cpu.jsonl" 2>&1 || true
  cat "$out/torch_cuda.jsonl" "$out/torch_cpu.jsonl"
  ;;
*)
  echo "usage: bash scripts/gpu_check.sh --prepare | --run <output directory>" >&2
  exit 2
  ;;
esac
