#!/usr/bin/env bash
# Builds the .deb with CPack, validates its desktop entry, AppStream metainfo and the package
# itself (desktop-file-validate, appstreamcli, lintian: no errors), extracts it into a scratch
# root and runs the installed binaries from there: --version, doctor, a short training run on
# the bundled demo (which must come from the installed share/tunebench, not the source tree),
# the man pages, and the GUI started offscreen.
# Usage: check_package.sh BUILD_DIR WORK_DIR
set -euo pipefail
build="$1"
work="$2"
fail() { echo "check_package: $*" >&2; exit 1; }
for tool in cpack dpkg-deb dpkg-query desktop-file-validate appstreamcli lintian man; do
  command -v "$tool" >/dev/null || fail "$tool is missing; run packaging/install-deps.sh"
done

rm -rf "$work"
mkdir -p "$work"
(cd "$build" && cpack -G DEB -B "$work/pkg" >"$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/pkg/tunebench_*.deb)
echo "package: $deb ($(du -h "$deb" | cut -f1))"

# Every dependency names a package this (Debian) machine knows and has installed: the list
# dpkg-shlibdeps computed from the binaries, plus the Qt plugins.
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for dep in libtorch qt6-qpa-plugins libqt6widgets6 libqcustomplot libyaml-cpp libsqlite3; do
  [[ "$depends" == *"$dep"* ]] || fail "Depends lacks $dep"
done
IFS=',' read -ra alternatives <<<"$depends"
for entry in "${alternatives[@]}"; do
  name=$(echo "${entry%%|*}" | sed -e 's/(.*)//' -e 's/ //g')
  [[ "$(dpkg-query -W -f='${Status}' "$name" 2>/dev/null)" == "install ok installed" ]] ||
    fail "dependency $name is not an installed package here"
done

root="$work/root"
dpkg-deb -x "$deb" "$root"
desktop-file-validate "$root/usr/share/applications/tunebench.desktop"
appstreamcli validate --no-net "$root"/usr/share/metainfo/*.metainfo.xml
# lintian refuses nothing as root but says so; only errors fail the package.
lintian --fail-on error "$deb" 2>&1 | grep -v "root privileges" || true
lintian --fail-on error "$deb" >/dev/null 2>&1 || fail "lintian reports errors"
for size in 16 32 48 64 128 256; do
  [[ -s "$root/usr/share/icons/hicolor/${size}x${size}/apps/tunebench.png" ]] ||
    fail "icon ${size}x${size} missing"
done
man -l "$root/usr/share/man/man1/tunebench-cli.1.gz" | grep -q "export" ||
  fail "the man page lacks the export command"
[[ -s "$root/usr/share/man/man1/tunebench.1.gz" ]] || fail "no man page for tunebench"

# The installed binaries, resources from the scratch prefix only.
unset TB_RESOURCES_DIR
export TB_DB="$work/runs.db" TB_DATA_DIR="$work/data" TB_CACHE_DIR="$work/cache"
cli="$root/usr/bin/tunebench-cli"
"$cli" --version | grep -q "tunebench 0.1" || fail "--version"
"$cli" doctor >"$work/doctor.txt" 2>&1 || { cat "$work/doctor.txt"; fail "doctor failed"; }
"$cli" config presets | tee "$work/presets.txt" | grep -q "A-lora" || fail "no presets"
cd "$work"
"$cli" train A-lora --set max_steps=4 --set max_eval_samples=16 --set output_dir="$work/out" \
  >"$work/train.txt" 2>&1 || { cat "$work/train.txt"; fail "training failed"; }
grep -q "$root/usr/share/tunebench/demo/models/tiny-bert" "$work/train.txt" ||
  { cat "$work/train.txt"; fail "the demo model did not come from the installed prefix"; }
grep -q "done after 4 steps" "$work/train.txt" || fail "training did not finish"
"$cli" runs list | grep -q "completed" || fail "the run is not in the history"
QT_QPA_PLATFORM=offscreen "$root/usr/bin/tunebench" --page runs --screenshot "$work/gui.png" \
  >"$work/gui.txt" 2>&1 || { cat "$work/gui.txt"; fail "the GUI did not start"; }
[[ -s "$work/gui.png" ]] || fail "no GUI screenshot"
echo "installed tunebench: --version, doctor, presets, 4 training steps on the demo, GUI: ok"
