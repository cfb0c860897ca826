# Helpers of every phase (sourced by init.sh after ../../e2e/guest/lib.sh).
OUT=/e2e/out
STACK=$(cat /e2e/stack)

# mark NAME: guest uptime at the end of a step, for the per-boot timings in the note.
mark() { echo "$1 $(cut -d' ' -f1 /proc/uptime)" >>"$OUT/times.$PHASE"; }

# xrun NAME CMD...: run (lib.sh) and keep the outputs and the exit code in /e2e/out.
xrun() {
  _x=$1
  run "$@"
  cp "/tmp/$_x.out" "$OUT/$_x.out"
  cp "/tmp/$_x.err" "$OUT/$_x.err"
  echo "$RC" >"$OUT/$_x.rc"
  mark "$_x"
}
