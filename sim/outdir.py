"""Where outputs may be written: never over an input, never over what purlsim did not write, one run at a time.

An output directory may replace (with --force) only an earlier purlsim output (its manifest says
so) or an empty directory; never a file, the working directory or a directory holding an input.
A run holds an exclusive lock (`flock`) on `.NAME.lock` beside the output for its whole length, so
two runs into one output cannot mix their chunks; the lock dies with its process, and staging
directories a killed run left behind (`.NAME.partial-*`, `.NAME.old-*`) are removed by the next
run that holds the lock.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

OUTPUT_FORMAT = "purlsim-output/1"
REPORT_HEAD = "<!DOCTYPE html"


class OutputExists(Exception):
    """The output directory exists and overwriting was not asked for."""


class OutputRefused(Exception):
    """The output path cannot or must not be written (an input, not ours, locked, unwritable)."""


def os_reason(exc: BaseException) -> str:
    """An OSError in words people know: 'No space left on device', 'File name too long'."""
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return "no space left on device"
        return (exc.strerror or str(exc)).lower() if exc.strerror else str(exc)
    return str(exc)


def _same_or_inside(path: Path, root: Path) -> bool:
    """True when `path` is `root` or lies inside it."""
    return path == root or root in path.parents


def _real(path: Path) -> Path:
    try:
        return Path(os.path.realpath(path))
    except (OSError, ValueError):
        return Path(os.path.abspath(path))


def is_purlsim_output(directory: Path) -> bool:
    """True for a directory whose manifest.json says it is a purlsim output."""
    try:
        doc = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(doc, dict) and doc.get("format") == OUTPUT_FORMAT


def check_target(out: Path, force: bool, inputs: Iterable[Path] = (), kind: str = "directory") -> None:
    """Raise OutputRefused unless `out` may be written (a new path, or with force something purlsim wrote)."""
    out = Path(out)
    if not out.name or out.name in (".", ".."):
        raise OutputRefused(f"{out}: not a name for an output {kind}; give a new path such as out/run1")
    real = _real(out)
    cwd = _real(Path.cwd())
    if _same_or_inside(cwd, real):
        raise OutputRefused(f"{out}: is the working directory or one of its parents; refusing to replace it")
    for f in inputs:
        f = _real(Path(f))
        if _same_or_inside(f, real):
            what = "is" if f == real else "holds"
            raise OutputRefused(f"{out}: {what} an input of this command ({f.name}); refusing to overwrite it")
    try:
        exists = out.exists() or out.is_symlink()
        parent = out.parent if str(out.parent) else Path(".")
        parent_ok = parent.is_dir()
    except (OSError, ValueError) as exc:
        raise OutputRefused(f"{out}: {os_reason(exc)}") from None
    if not exists:
        if parent.exists() and not parent_ok:
            raise OutputRefused(f"{out}: its parent {parent} is not a directory")
        for p in parent.parents:  # the first existing ancestor must be a directory we may write into
            if p.exists() and not p.is_dir():
                raise OutputRefused(f"{out}: {p} is not a directory")
        return
    if kind == "report":
        if out.is_dir():
            raise OutputRefused(f"{out}: is a directory (--out takes the HTML file to write)")
        try:
            with open(out, encoding="utf-8", errors="replace") as fh:
                head = fh.read(len(REPORT_HEAD))
        except OSError as exc:
            raise OutputRefused(f"{out}: {os_reason(exc)}") from None
        if head != REPORT_HEAD:
            raise OutputRefused(f"{out}: exists and is not an HTML report; refusing to replace it")
        return
    if not force:
        raise OutputRefused(f"{out}: exists (use --force to replace it)")
    if out.is_symlink() or not out.is_dir():
        raise OutputRefused(f"{out}: exists and is not a directory; --force replaces only an earlier purlsim output")
    if not is_purlsim_output(out) and any(out.iterdir()):
        raise OutputRefused(
            f"{out}: is not a purlsim output (no purlsim manifest.json); "
            "--force replaces only an earlier purlsim output or an empty directory"
        )


def lock_path(out: Path) -> Path:
    """The lock file of output `out`."""
    out = Path(out)
    return out.parent / f".{out.name}.lock"


@contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold the exclusive lock of output `out` (raise OutputRefused at once if another run holds it)."""
    path = lock_path(out)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputRefused(f"{out}: cannot create its parent directory: {os_reason(exc)}") from None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputRefused(f"{out}: cannot write beside it: {os_reason(exc)}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputRefused(
                f"{out}: another purlsim run is writing it (lock {path.name}); wait for it to finish"
            ) from None
        # The holder before us may have removed the file after we opened it: then lock the new one.
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        remove_stale(out)
        yield
    finally:
        try:
            path.unlink()
        except OSError:
            pass
        os.close(fd)


def remove_stale(out: Path) -> None:
    """Remove staging directories of `out` left by a killed run (call only while holding its lock)."""
    out = Path(out)
    try:
        siblings = list(out.parent.iterdir()) if out.parent.is_dir() else []
    except OSError:
        return
    for p in siblings:
        if p.name.startswith((f".{out.name}.partial-", f".{out.name}.old-")) and p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
