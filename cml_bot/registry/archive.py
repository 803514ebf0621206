"""The model archive: an MLflow model directory packed as ``model/...`` in ``model.tar.gz``, and
unpacked only after every entry passed the safety checks (no absolute paths, ``..``, links or
special files; bounded entry count and size).
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath

from cml_bot.core import RegistryError, file_sha256

MODEL_DIR = "model"  # the one top-level directory inside model.tar.gz
MAX_MEMBERS = 100_000  # entries in a model archive
MAX_UNPACKED = 16 * 1024**3  # bytes a model archive may unpack to


def _check_model_dir(model_dir: Path) -> None:
    if not (model_dir / "MLmodel").is_file():
        raise RegistryError(
            f"{model_dir} is not an MLflow model directory (it has no MLmodel file)",
            fix="pass the `model/` folder that `cml-bot train` (mlflow.*.save_model) wrote",
        )


def _pack(model_dir: Path, archive: Path) -> None:
    """``model_dir`` as ``model/...`` in a gzipped tarball: regular files and folders only."""
    for path in model_dir.rglob("*"):
        if path.is_symlink() or not (path.is_file() or path.is_dir()):
            raise RegistryError(
                f"{path} is a link or a special file; a model archive holds plain files only",
                fix="copy the file into the model folder instead of linking it",
            )

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        return info

    with tarfile.open(archive, "w:gz") as tar:
        tar.add(model_dir, arcname=MODEL_DIR, filter=clean)


def _refuse(what: str, entry: str, why: str) -> RegistryError:
    return RegistryError(
        f"refused to unpack {what}: entry {entry!r} {why}",
        fix="the asset was not written by cml-bot or was tampered with; register the model "
        "again (cml-bot never writes outside the destination or follows links in archives)",
    )


def _check_members(members: list[tarfile.TarInfo], what: str) -> None:
    if len(members) > MAX_MEMBERS:
        raise _refuse(what, members[MAX_MEMBERS].name, f"is one of over {MAX_MEMBERS} entries")
    total = 0
    for member in members:
        name = member.name
        parts = PurePosixPath(name).parts
        if name.startswith("/") or "\\" in name or PureWindowsPath(name).drive:
            raise _refuse(what, name, "is an absolute path")
        if ".." in parts:
            raise _refuse(what, name, "climbs out of the destination ('..')")
        if not parts or parts[0] != MODEL_DIR:
            raise _refuse(what, name, f"is outside the {MODEL_DIR}/ folder")
        if member.issym() or member.islnk():
            raise _refuse(what, name, f"is a link (to {member.linkname!r})")
        if not (member.isfile() or member.isdir()):
            raise _refuse(what, name, "is a device, FIFO or other special file")
        total += member.size
        if total > MAX_UNPACKED:
            raise _refuse(what, name, f"takes the archive over {MAX_UNPACKED} bytes")


def _safe_unpack(archive: Path, into: Path, what: str) -> None:
    """Check every entry, then extract with the ``data`` filter (PEP 706) as a second guard."""
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            _check_members(tar.getmembers(), what)
            if hasattr(tarfile, "data_filter"):
                tar.extractall(into, filter="data")
            else:  # pragma: no cover - Pythons without PEP 706; every entry was checked above
                tar.extractall(into)  # noqa: S202
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise RegistryError(
            f"cannot unpack {what}: {exc}",
            fix="the asset is damaged or not a .tar.gz; register the model again",
        ) from None
    except OSError as exc:
        raise RegistryError(
            f"cannot unpack {what} into {into}: {exc.strerror or exc}",
            fix="check that the destination folder is writable and has space",
        ) from None


# Files MLflow writes into a model directory when it is registered or downloaded: not the model.
_REGISTRY_FILES = frozenset({"registered_model_meta"})


def tree_sha256(root: Path) -> str:
    """One SHA-256 over a model directory: every regular file's path (relative, ``/``-separated)
    and bytes, in path order; MLflow's own registration notes are left out. Links count as
    their target's path, never followed."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*"), key=lambda p: p.relative_to(root).as_posix()):
        rel = path.relative_to(root).as_posix()
        if rel in _REGISTRY_FILES or (path.is_dir() and not path.is_symlink()):
            continue
        digest.update(rel.encode() + b"\0")
        if path.is_symlink():
            digest.update(b"link:" + str(path.readlink()).encode() + b"\0")
            continue
        digest.update(file_sha256(path).encode() + b"\0")
    return digest.hexdigest()
