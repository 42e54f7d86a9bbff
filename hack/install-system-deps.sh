#!/usr/bin/env bash
# Installs the Debian packages the tests and the demo need, when they are missing.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v promtool >/dev/null || need+=(prometheus)
command -v unshare >/dev/null || need+=(util-linux)
command -v tmux >/dev/null || need+=(tmux)
[[ ${#need[@]} -eq 0 ]] && exit 0
echo "[deps] installing ${need[*]} from Debian" >&2
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
