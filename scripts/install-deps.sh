#!/usr/bin/env bash
# Installs the Debian packages switchyard needs to build and test, skipping what is already there.
set -euo pipefail
packages=(g++-12 cmake ninja-build clang libclang-rt-14-dev libfmt-dev libexpected-dev nlohmann-json3-dev
          libcli11-dev libgtest-dev libbenchmark-dev libpcre2-dev pkg-config python3 clang-format-14 clang-tidy-14 tmux
          libcpp-httplib-dev libtomlplusplus-dev chromium curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from Debian or from NodeSource (whose nodejs bundles npm): check the commands.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
