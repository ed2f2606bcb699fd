"""The old name of the offline preview: `python -m infra.preview` runs `python -m preview`.

The Pulumi program (this folder) does not import the preview; this file only hands the process
over to the command's new home, so scripts written for the old name keep working."""

import runpy

if __name__ == "__main__":
    runpy.run_module("preview", run_name="__main__", alter_sys=True)
