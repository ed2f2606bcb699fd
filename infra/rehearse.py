"""The old name of the rehearsal: `python -m infra.rehearse` runs `python -m rehearsal`.

The Pulumi program (this folder) does not import the rehearsal; this file only hands the process
over to the command's new home, so scripts written for the old name keep working."""

import runpy

if __name__ == "__main__":
    runpy.run_module("rehearsal", run_name="__main__", alter_sys=True)
