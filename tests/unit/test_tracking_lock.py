"""The local SQLite store's file lock (``filelock``) keeps a second process out until the first
lets go: two processes creating a fresh SQLite database at once can corrupt it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from cml_bot.registry import tracking

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cml_bot.registry.tracking import _file_lock

    lock, done = Path(sys.argv[1]), Path(sys.argv[2])
    with _file_lock(lock):
        print("locked", flush=True)
        time.sleep(0.5)
        done.write_text("released")
    """
)


def test_a_second_process_waits_for_the_lock(tmp_path: Path) -> None:
    lock, done = tmp_path / "mlflow.lock", tmp_path / "done"
    root = str(Path(__file__).parents[2])
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock), str(done)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": root},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with tracking._file_lock(lock):
            assert done.read_text() == "released"  # only once the holder had let go
    finally:
        holder.wait(timeout=30)
    assert holder.returncode == 0


def test_the_lock_is_taken_again_after_release(tmp_path: Path) -> None:
    lock = tmp_path / "alias.lock"
    for _ in range(2):
        with tracking._file_lock(lock):
            assert lock.exists()
