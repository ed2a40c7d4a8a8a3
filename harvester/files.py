"""Writing output files so that a reader only ever finds the old file or the new one, whole.

``report`` and ``review export`` publish files people commit and serve; overwriting them in
place means a full disk, a crash or a kill mid-write leaves a truncated README.md behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

from harvester.errors import OutputError


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8), or leave what was there untouched.

    The text goes to a temporary file in the same folder (so the rename cannot cross file
    systems), is flushed to the disk, and ``os.replace`` puts it in place in one step. The new
    file keeps the permissions of the one it replaces (a temporary file's would be private).
    Any ``OSError`` becomes an ``OutputError`` naming the file; the temporary file is removed.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A dot name: tools that list or glob the folder (git, a web server) skip it.
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            with temporary.open("x", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            with contextlib.suppress(FileNotFoundError):
                os.chmod(temporary, stat.S_IMODE(path.stat().st_mode))
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise
        _sync_folder(path.parent)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise OutputError(
            f"cannot write {path} ({reason}); what was there before is unchanged"
        ) from None


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (a power cut right after it keeps the new name)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
