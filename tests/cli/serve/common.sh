# Shared by tests/cli/serve_*.sh (sourced): start `switchyard serve` on a free loopback port, wait for it, stop
# it; install npm packages into the build tree once. Every wait is bounded.

# start_server LOG ARGS...: runs `$sy serve --port 0 ARGS...` in the background; sets server_pid and port.
start_server() {
  local log=$1
  shift
  "$sy" serve --port 0 "$@" 2>"$log" &
  server_pid=$!
  port=
  for _ in $(seq 1 600); do  # 60 s: the ASan build loads the model slowly
    port=$(sed -n 's|^serve: listening on http://127.0.0.1:\([0-9]*\) .*|\1|p' "$log")
    [ -n "$port" ] && break
    if ! kill -0 "$server_pid" 2>/dev/null; then cat "$log"; echo "FAIL: the server exited before listening"; exit 1; fi
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log"; echo "FAIL: the server did not say where it listens within 60 s"; exit 1; }
}

# stop_server: SIGTERM, then wait (at most 240 s: requests in flight finish first) for a clean exit; fails on any
# other exit status.
stop_server() {
  [ -n "${server_pid:-}" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local status=0
  for _ in $(seq 1 2400); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
    echo "FAIL: the server did not stop within 240 s of SIGTERM"; return 1
  fi
  wait "$server_pid" || status=$?
  server_pid=
  if [ "$status" -ne 0 ]; then echo "FAIL: the server exited with status $status after SIGTERM"; return 1; fi
}

# npm_install DIR PACKAGE@VERSION...: installs once into DIR (under the build tree); a marker names the set.
npm_install() {
  local dir=$1
  shift
  local marker="$dir/installed-$(echo "$*" | tr ' /@' '___')"
  [ -f "$marker" ] && return 0
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "FAIL: node and npm are needed (scripts/install-deps.sh installs them)"; exit 1
  fi
  mkdir -p "$dir"
  # Tests that share a cache run side by side (ctest -j): one installs while the others wait for it, instead of
  # finding a half-written node_modules.
  local lock
  exec {lock}>"$dir.lock"
  flock "$lock"
  if [ ! -f "$marker" ]; then
    if ! npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$@" >"$dir/npm.log" 2>&1; then
      if ! npm ping >/dev/null 2>&1; then
        echo "SKIP: npm cannot reach its registry, so $* cannot be installed"; exit 0
      fi
      cat "$dir/npm.log"; echo "FAIL: npm install $* failed"; exit 1
    fi
    touch "$marker"
  fi
  exec {lock}>&-
}
