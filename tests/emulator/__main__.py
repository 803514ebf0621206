"""``python -m tests.emulator``: the GitHub API emulator as a process.

Writes its URL (``http://127.0.0.1:PORT``) to ``--ready-file`` once it accepts connections,
and dumps its state (repos, requests, violations, faults) as JSON to ``--state-file`` on
SIGTERM/SIGINT/exit and on every ``GET /_emulator/state``.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .server import Emulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: an ephemeral port")
    parser.add_argument("--ready-file", type=Path, help="the URL is written here when ready")
    parser.add_argument("--state-file", type=Path, help="JSON state dump on exit")
    parser.add_argument("--seed", type=Path, help="JSON seed (the /_emulator/seed format)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    args = parser.parse_args(argv)

    emulator = Emulator(args.host, args.port, state_file=args.state_file, verbose=args.verbose)
    if args.seed is not None:
        emulator.seed(json.loads(args.seed.read_text(encoding="utf-8")))
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emulator.start()
    try:
        if args.ready_file is not None:
            tmp = args.ready_file.with_name(args.ready_file.name + ".tmp")
            tmp.write_text(emulator.url + "\n", encoding="utf-8")
            tmp.replace(args.ready_file)
        print(f"GitHub API emulator listening on {emulator.url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        emulator.stop()  # writes --state-file
    return 0


if __name__ == "__main__":
    sys.exit(main())
