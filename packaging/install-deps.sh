#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages tunebench needs to build, run and test.
# Idempotent: packages already present are skipped, so a second run costs a second.
# Usage: packaging/install-deps.sh [--print]   (--print lists the packages and exits)
set -euo pipefail

# Build toolchain.
build_pkgs=(build-essential cmake ninja-build ccache pkg-config git clang-format)
# Libraries of tunebench_core (LibTorch brings its own BLAS hook; OpenBLAS makes it fast).
core_pkgs=(libtorch-dev libopenblas0-openmp libyaml-cpp-dev libsqlitecpp-dev libsqlite3-dev
  nlohmann-json3-dev libonig-dev libutf8proc-dev libcli11-dev zlib1g-dev libgloo-dev)
# GUI: Qt 6 Widgets (+ Qt Test, SVG icons) and QCustomPlot built for Qt 6.
gui_pkgs=(qt6-base-dev qt6-svg-dev libqt6svg6 libqcustomplot-dev libqcustomplot2.1-qt6)
# Tests: offscreen/X11 screenshots, npm for the interop references, numpy for subsets,
# sqlite3 shell for inspecting the run store, PyTorch for the eager training reference.
test_pkgs=(xvfb xauth python3-numpy python3-torch sqlite3)
# Packaging: the .deb (CPack + dpkg-shlibdeps), man pages from --help, and the validators.
package_pkgs=(dpkg-dev help2man man-db desktop-file-utils appstream lintian)
# Fuzzing: clang with libFuzzer and the sanitizers (tests/fuzz); the runtime package is named
# after the distribution's clang version (libclang-rt-14-dev on Debian 12), found below.
fuzz_pkgs=(clang)
clang_runtime() {
  local version
  version=$(apt-cache depends clang 2>/dev/null | sed -n 's/.*Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -1)
  [[ -n "$version" ]] && echo "libclang-rt-${version}-dev"
}

all_pkgs=("${build_pkgs[@]}" "${core_pkgs[@]}" "${gui_pkgs[@]}" "${test_pkgs[@]}"
  "${package_pkgs[@]}" "${fuzz_pkgs[@]}")
# Node.js may come from another source (e.g. NodeSource ships npm inside nodejs);
# only ask Debian for it when the commands are missing.
runtime=$(clang_runtime || true)
[[ -n "$runtime" ]] && all_pkgs+=("$runtime")
command -v node >/dev/null 2>&1 || all_pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || all_pkgs+=(npm)

if [[ "${1:-}" == "--print" ]]; then
  printf '%s\n' "${all_pkgs[@]}"
  exit 0
fi

if [[ ! -r /etc/os-release ]]; then
  echo "install-deps: cannot read /etc/os-release; tunebench supports Debian 12+ and Ubuntu 24.04+." >&2
  exit 1
fi
# shellcheck disable=SC1091
. /etc/os-release
case "${ID:-}:${VERSION_ID:-}" in
  debian:12* | debian:13* | ubuntu:24.* | ubuntu:25.*) ;;
  *)
    if [[ " ${ID_LIKE:-} " != *" debian "* ]]; then
      echo "install-deps: unsupported OS '${PRETTY_NAME:-unknown}'. tunebench's dependency" \
        "script supports Debian 12+ and Ubuntu 24.04+ (apt). On other systems install the" \
        "packages listed by 'packaging/install-deps.sh --print' by hand." >&2
      exit 1
    fi
    echo "install-deps: '${PRETTY_NAME}' is Debian-like but untested; trying apt anyway." >&2
    ;;
esac

missing=()
for pkg in "${all_pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#all_pkgs[@]} packages present."
  exit 0
fi

sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: not root and sudo is missing; run as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  sudo="sudo"
fi
echo "install-deps: installing ${#missing[@]} packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [[ -z "$runtime" ]] && runtime=$(clang_runtime); then
  # The package lists were empty before the update: now the runtime's name is known.
  $sudo apt-get install -y -qq --no-install-recommends "$runtime"
fi
echo "install-deps: done."
