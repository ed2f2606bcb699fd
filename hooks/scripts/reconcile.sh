#!/bin/sh
# CodeDeploy lifecycle hook wrapper: runs `python3 -m hooks <command>`, where <command> is this
# file's name without .sh (deregister.sh, register.sh, reconcile.sh are copies of this file).
# Settings come from CUTOVER_* variables, optionally kept in /etc/cutover/hooks.env (on the
# instance) or cutover-hooks.env next to this script (in the revision). See hooks/README.md.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
command=$(basename "$0" .sh)
if [ -f "$here/hooks/__init__.py" ]; then
    root=$here
else
    root=$(cd "$here/../.." && pwd)
fi
for env_file in /etc/cutover/hooks.env "$here/cutover-hooks.env"; do
    if [ -f "$env_file" ]; then
        set -a
        . "$env_file"
        set +a
    fi
done
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONPATH
exec "${CUTOVER_PYTHON:-python3}" -m hooks "$command" "$@"
