#!/usr/bin/env bash
# Installs the Debian packages `make bench` needs, only those missing:
# hyperfine (the timer), the runtimes nsrun is compared with (runc, crun,
# bubblewrap), jq (to write the OCI config.json) and the profilers used for the
# per-primitive costs (perf, strace); python3 for `make code-layout`.  Idempotent, like scripts/deps.sh.
set -euo pipefail

packages=(
  hyperfine                # side-by-side timing
  runc crun bubblewrap     # the runtimes nsrun is compared with
  jq                       # edits the OCI bundle's config.json
  linux-perf strace        # where the time goes, per primitive
  python3                  # make code-layout (scripts/code-layout.py)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "bench-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "bench-deps: missing packages: ${missing[*]}" >&2
  echo "bench-deps: run as root to install them: sudo make bench-deps" >&2
  exit 1
fi

echo "bench-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
