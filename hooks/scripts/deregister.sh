#!/bin/sh
# CodeDeploy lifecycle hook wrapper: runs `python3 -m hooks <command>`, where <command> is this
# file's name without .sh (deregister.sh, register.sh, reconcile.sh are copies of this file).
# Settings come from the command line, then the environment, then /etc/cutover/hooks.env
# (CUTOVER_ETC_ENV names another file), then cutover-hooks.env beside the bundled package (the
# revision's defaults). Python reads those files (KEY=value lines, never run as shell code);
# this script only looks up CUTOVER_PYTHON in them. See hooks/README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command=$(basename "$0" .sh)
if [ -f "$here/hooks/__init__.py" ]; then
    root=$here
else
    root=$(cd "$here/../.." && pwd)
fi
if [ -z "${CUTOVER_PYTHON:-}" ]; then
    for env_file in "${CUTOVER_ETC_ENV:-/etc/cutover/hooks.env}" "$root/cutover-hooks.env"; do
        if [ -f "$env_file" ]; then
            CUTOVER_PYTHON=$(sed -n 's/^[[:space:]]*\(export[[:space:]][[:space:]]*\)\{0,1\}CUTOVER_PYTHON=[[:space:]]*["'\'']\{0,1\}\([^"'\'']*\)["'\'']\{0,1\}[[:space:]]*$/\2/p' "$env_file" | tail -n 1)
            if [ -n "$CUTOVER_PYTHON" ]; then
                break
            fi
        fi
    done
fi
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
exec "${CUTOVER_PYTHON:-python3}" -m hooks "$command" "$@"
