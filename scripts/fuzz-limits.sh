# Sourced by scripts/fuzz.sh and scripts/fuzz-all.sh: fuzz_limits TARGET sets $timeout (seconds per input, past
# which an input is a hang) and $rss (MB, past which the process is out of memory) for a target.
# The model loader is held to issue 19's tighter bounds: a forged count must fail fast and small.
fuzz_limits() {
  timeout=10
  rss=2048
  case "$1" in
    model_load) timeout=5; rss=512 ;;
  esac
}
