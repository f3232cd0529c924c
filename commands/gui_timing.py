"""`python -m sta_hands.commands.gui_timing startup | latency MODEL CLIP SECONDS`: the child process of
`export.bench.gui_timing` (bench's startup and GUI-latency figures); prints one JSON line."""

from __future__ import annotations

import json
import os
import sys

from sta_hands.export.bench.gui_timing import probe_latency, probe_startup


def main(argv: list[str]) -> int:
    if argv[:1] == ["startup"]:
        result = probe_startup()
    elif argv[:1] == ["latency"] and len(argv) == 4:
        result = probe_latency(argv[1], argv[2], float(argv[3]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    sys.stdout.flush()
    # The figures are out; skip the interpreter's teardown, which can abort while a worker thread that
    # outlived the window's shutdown timeout is still inside ONNX Runtime (a slow glimpse CNN).
    os._exit(code)
