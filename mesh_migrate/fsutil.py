"""Files written so that a reader never sees half of one, and files read without trusting them.

Every failure is an OSError whose `filename` is the path the caller asked for (not a
temporary file beside it), so that one handler can report it in one line.
"""

from __future__ import annotations

import os
import signal
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

# glob, shutil and tempfile are imported in the functions that write: a run that writes
# nothing (`analyze --format json --no-cache`) does not import them.


def _default_mode(path: Path) -> int:
    """Keep an existing file's mode; a new file gets what open() would give it."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def naming(error: OSError, path: Path | str) -> OSError:
    """The same failure, naming PATH."""
    return OSError(error.errno, error.strerror or str(error), str(path))


def write_atomic(path: Path, data: bytes | str, mode: int | None = None) -> None:
    """Temp file, fsync, rename. A FIFO or a device (`-o /dev/stdout`) is written to in
    place instead: replacing it by a regular file would break whoever reads it."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if _is_special(path):
            with open(path, "wb") as handle:
                handle.write(payload)
            return
        replace_file(path, payload, mode)
    except OSError as error:
        raise naming(error, path) from error


def _is_special(path: Path) -> bool:
    try:
        return not stat.S_ISREG(path.stat().st_mode) and not path.is_dir()
    except OSError:
        return False


def replace_file(path: Path, payload: bytes | Sequence[bytes], mode: int | None = None, *, durable: bool = True) -> None:
    """PATH replaced by a file holding PAYLOAD (or its parts one after another, never joined
    in memory), whatever PATH was: written to a temporary file beside it, then renamed over
    it. MODE: the file's (None: an existing file's, else what open() would give). Not
    DURABLE: no fsync, for a file that may be lost (a cache)."""
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    mode = _default_mode(path) if mode is None else mode
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in [payload] if isinstance(payload, bytes) else payload:
                handle.write(part)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files that writes of PATH by processes no longer running left
    (`.NAME.PID.XXXXXXXX.tmp`, as `replace_file` names them): a process killed outright
    (SIGKILL, the OOM killer) while writing cannot remove its own, and it would stay in the
    user's folder."""
    import glob

    for temporary in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        owner = temporary.name[len(path.name) + 2 :].split(".", 1)[0]
        if owner.isdigit() and not _running(int(owner)):
            try:
                temporary.unlink()
            except OSError:
                pass


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


_KINDS = ((stat.S_ISREG, "a file"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def describe(path: Path) -> str:
    """What PATH is, symlinks followed, for messages: "a file", "a folder", "a symbolic
    link to X, which does not exist", ..."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            return f"a symbolic link to {os.readlink(path)}, which does not exist"
        return "missing"
    except OSError as error:
        return f"unreadable ({error.strerror or error})"
    return next((kind for test, kind in _KINDS if test(mode)), "a device")


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most LIMIT bytes; OSError for anything else.

    For paths that come from untrusted data: a FIFO would block the read forever and a
    device such as /dev/zero never ends, so neither is ever read. The type is checked
    before opening (opening some devices has effects) and again on the open file, which
    O_NONBLOCK keeps from blocking if a FIFO was swapped in meanwhile.
    """
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise OSError(0, "not a regular file", str(path))
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))
    with os.fdopen(fd, "rb") as handle:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise OSError(0, "not a regular file", str(path))
        if status.st_size > limit:
            raise OSError(0, f"larger than {limit} bytes", str(path))
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise OSError(0, f"larger than {limit} bytes", str(path))
    return data


# ---- a folder replaced as a whole ------------------------------------------------------


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A new folder beside TARGET to fill; when the block ends normally it replaces
    TARGET whole, otherwise it is removed and TARGET is left as it was.

    Beside, not inside: renames within one file system are atomic, and a reader of
    TARGET sees the old folder or the new one, never a mix. SIGTERM is handled like an
    interrupt meanwhile, so a killed run leaves no staging folder behind.
    """
    import shutil
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp's 0700 would make the report private
    except OSError as error:
        raise naming(error, target) from error
    with terminate_as_interrupt():
        try:
            yield staging
            _swap(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def _swap(staging: Path, target: Path) -> None:
    """Put STAGING where TARGET is: two renames, the old folder removed after."""
    import shutil
    import tempfile

    try:
        if not os.path.lexists(target):
            os.rename(staging, target)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
        os.rename(target, old / target.name)
        try:
            os.rename(staging, target)
        except BaseException:
            os.rename(old / target.name, target)
            raise
        finally:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as error:
        raise naming(error, target) from error


class Terminated(BaseException):
    """SIGTERM arrived; raised where the program was, so that cleanups run."""


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises Terminated; once the cleanups have run, the
    process ends by the signal as it would have (exit status 143)."""
    def raise_terminated(signum, frame):
        raise Terminated()

    try:
        previous = signal.signal(signal.SIGTERM, raise_terminated)
    except ValueError:  # not the main thread: signals stay as they are
        yield
        return
    try:
        yield
    except Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
