"""Writing files whole or not at all: a temporary file beside the target, flushed to disk,
then put in place, and the directory synced.

Keys, ledgers, bundles and decrypted bundles are all written this way, so a crash or an
error leaves the old file (or no file), never a partial one. Without *overwrite*, a target
that appears meanwhile is never replaced: the file is put in place with a hard link, which
fails if the target exists.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from ..errors import ConfigurationError
from .folder_lock import one_writer

#: The suffix of an old file set aside while a set of files replaces it (`replace_together`).
_ASIDE = ".old"

__all__ = [
    "atomic_directory",
    "atomic_file",
    "put_in_place",
    "replace_together",
    "sync_directory",
    "trail_writer",
    "write_temporary",
]


def write_temporary(folder: Path, name: str, data: bytes, mode: int) -> Path:
    """A new file next to *name*, holding *data* on disk, with exactly *mode*."""
    descriptor, path = tempfile.mkstemp(prefix=f".{name}.{os.getpid()}.", suffix=".tmp", dir=folder)
    temporary = Path(path)
    try:
        with os.fdopen(descriptor, "wb") as file:
            if hasattr(os, "fchmod"):  # mkstemp makes it 0600; the umask plays no part
                os.fchmod(file.fileno(), mode)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return temporary


def put_in_place(temporary: Path, target: Path, *, force: bool) -> bool:
    """Rename *temporary* to *target*; without *force*, False if *target* exists."""
    if force:
        os.replace(temporary, target)
        return True
    try:
        # A hard link fails if the target exists: no window in which a file that appeared
        # since the check could be replaced.
        os.link(temporary, target)
    except FileExistsError:
        return False
    except OSError:
        # File systems without hard links: check, then rename.
        if target.exists() or target.is_symlink():
            return False
        os.replace(temporary, target)
    return True


def sync_directory(folder: Path) -> None:
    """Make the renames durable; best effort, as not every platform can sync a directory."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def trail_writer(target: Path) -> str | None:
    """The name of the configured audit sink that writes *target* (a ledger or its
    checkpoints: a sink's ``path`` and ``checkpoints_path``), links followed, else None:
    what `atomic_file` never replaces, for a file written over the audit trail takes it,
    and every record in it, away."""
    from .._config import get_configuration  # here: the configuration imports this module

    for sink in get_configuration().sinks:
        for attribute in ("path", "checkpoints_path"):
            kept = None
            with contextlib.suppress(Exception):  # a sink's own property may fail: not ours
                kept = getattr(sink, attribute, None)
            if isinstance(kept, Path) and _same_file(kept, target):
                return type(sink).__name__
    return None


def _same_file(one: Path, other: Path) -> bool:
    try:
        return os.path.samefile(one, other)
    except OSError:  # one of them is not there (yet): the paths, links followed
        return one.resolve() == other.resolve()


@contextlib.contextmanager
def atomic_file(
    target: Path, *, overwrite: bool, before_in_place: Callable[[], None] | None = None
) -> Iterator[BinaryIO]:
    """A new file (mode 0600) that becomes *target* when the block ends without error.

    *before_in_place* is called once the file is whole on disk, just before it takes
    *target*'s name: if it raises, nothing is put in place (a file already there is left as
    it was) and its exception goes on.

    Raises:
        FileExistsError: *target* exists (or appeared meanwhile) and *overwrite* is false;
            nothing was written.
        ConfigurationError: *target* is a file a configured audit sink writes
            (`trail_writer`), even with *overwrite*; nothing was written.
        OSError: the directory cannot be written; nothing was written.
    """
    if not overwrite and (target.exists() or target.is_symlink()):
        raise FileExistsError(target)
    writer = trail_writer(target)
    if writer is not None:
        raise ConfigurationError(
            f"cannot write to {target}: it is the file the audit sink {writer} writes, and "
            f"writing there would replace the audit trail; choose another name. Nothing was "
            f"written"
        )
    descriptor, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    temporary = Path(name)
    try:
        with os.fdopen(descriptor, "w+b") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        if before_in_place is not None:
            before_in_place()
        if not put_in_place(temporary, target, force=overwrite):
            raise FileExistsError(target)
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()  # after a hard link, the name that is left over
    sync_directory(target.parent)


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """A new private directory (mode 0700) that becomes *target* when the block ends
    without error, every file in it synced first: a directory of files written together
    (a report's tables) is there whole or not at all. *target* must be missing or an empty
    directory (which it replaces); the parents it lacks are made, and removed again if the
    writing fails.

    Raises:
        ConfigurationError: *target* holds files (or came to meanwhile), is not a
            directory, is a symbolic link, or cannot be made or written (a full disk);
            nothing is left behind.
    """
    if target.is_symlink():
        raise ConfigurationError(
            f"cannot write into {target}: it is a symbolic link; give the directory itself, "
            f"or a new one"
        )
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigurationError(
            f"cannot write into {target}: it is not an empty directory; give a new one"
        )
    made: list[Path] = []  # the parents this call made, deepest first: its own to remove
    try:
        for parent in reversed([p for p in target.parents if not p.exists()]):
            try:
                parent.mkdir(mode=0o700)
            except FileExistsError:  # another process made it meanwhile: not ours
                continue
            made.insert(0, parent)
        temporary = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    except OSError as exc:
        _remove_empty(made)
        raise _cannot_make(target, exc) from None
    done = False
    try:
        try:
            yield temporary
            for file in temporary.iterdir():
                descriptor = os.open(file, os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
            sync_directory(temporary)
        except OSError as exc:  # a full disk, a quota: one line, nothing left
            raise ConfigurationError(
                f"cannot write into {target} ({exc.strerror or type(exc).__name__}); nothing "
                f"was written: free some space, or give a directory on another disk"
            ) from None
        try:
            os.rename(temporary, target)  # replaces an empty directory, never a full one
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise _cannot_make(target, exc) from None
            raise ConfigurationError(
                f"cannot write into {target}: it came to hold files meanwhile; give a new one"
            ) from None
        done = True
    finally:
        shutil.rmtree(temporary, ignore_errors=True)  # after the rename: nothing there
        if not done:
            _remove_empty(made)
    sync_directory(target.parent)


def _cannot_make(target: Path, exc: OSError) -> ConfigurationError:
    return ConfigurationError(
        f"cannot make {target} ({exc.strerror or type(exc).__name__}); check the path"
    )


def _remove_empty(made: list[Path]) -> None:
    """Remove the directories *made* (deepest first), those still empty."""
    for folder in made:
        with contextlib.suppress(OSError):
            folder.rmdir()


def replace_together(folder: Path, files: dict[str, bytes], *, mode: int) -> list[Path]:
    """Write *files* (name → content) into *folder*, each replacing one of its name, as one
    set (a notice and its register, which must agree): all are whole on disk before the
    first takes its name (a full disk fails there), and if a rename fails after others, the
    files already replaced are put back as they were. Only a crash between two renames
    could part the set: writers of the library take turns (`folder_lock.one_writer`), so
    two processes writing one set (two releases of a service publishing at start-up) leave
    one version whole, the last; a write of the folder by a signal handler that interrupted
    this thread's own is refused. Returns the paths, in *files*' order.

    Raises:
        ConfigurationError: a name is a file a configured audit sink writes
            (`trail_writer`); nothing was written.
        OSError: a file cannot be written or take its name (a directory has it), or
            another writer kept *folder* for `folder_lock.WAIT` seconds; the files
            there are left as they were.
    """
    targets = [folder / name for name in files]
    for target in targets:
        writer = trail_writer(target)
        if writer is not None:
            raise ConfigurationError(
                f"cannot write to {target}: it is the file the audit sink {writer} writes; "
                f"choose another directory. Nothing was written"
            )
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "a directory has the name", str(target))
    with one_writer(folder) as alone:
        if alone:
            _remove_leftovers(folder, files)
        _replace(folder, files, targets, mode)
    return targets


def _replace(folder: Path, files: dict[str, bytes], targets: list[Path], mode: int) -> None:
    """`replace_together`'s writing, with no other process writing into *folder*."""
    made: list[Path] = []
    kept: dict[Path, Path | None] = {}  # target → a copy of its old file (None: none)
    try:
        for name, data in files.items():
            made.append(write_temporary(folder, name, data, mode))
        for target in targets:
            kept[target] = _set_aside(target)
        replaced: list[Path] = []
        try:
            for temporary, target in zip(made, targets, strict=True):
                os.replace(temporary, target)
                replaced.append(target)
        except BaseException:
            for target in replaced:  # put the set back as it was
                with contextlib.suppress(OSError):
                    old = kept[target]
                    if old is None:
                        target.unlink()
                    else:
                        os.replace(old, target)
            raise
    finally:
        for leftover in [*made, *(old for old in kept.values() if old is not None)]:
            with contextlib.suppress(OSError):
                leftover.unlink()  # the old files' links; temporaries left by a failure
    sync_directory(folder)


def _set_aside(target: Path) -> Path | None:
    """A copy of *target*'s file under a temporary name beside it, to put it back: a hard
    link, else (a file system without them) a copy; None if there is no file.

    Raises:
        OSError: it can be neither linked nor copied (nothing is replaced then).
    """
    if not target.is_file():
        return None
    for _ in range(3):
        aside = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(6)}{_ASIDE}"
        try:
            os.link(target, aside)  # never over a file: fails if the name is taken
        except FileExistsError:
            continue
        except OSError:
            with open(target, "rb") as source, open(aside, "xb") as copy:
                shutil.copyfileobj(source, copy)
                if hasattr(os, "fchmod"):  # put back, it must be the old file, mode too
                    os.fchmod(copy.fileno(), stat.S_IMODE(os.fstat(source.fileno()).st_mode))
        return aside
    raise FileExistsError(errno.EEXIST, "no free name to set the old file aside", str(target))


def _remove_leftovers(folder: Path, files: dict[str, bytes]) -> None:
    """Remove what crashed writers left beside *files* (their old files set aside, their
    temporaries): called while no other writer runs, so any other process's are a dead
    one's. Only the names the library makes are looked at (with the writing process's id:
    this process's own are a running write's); no other file is touched."""
    names = "|".join(re.escape(name) for name in files)
    made = re.compile(  # mkstemp's 8 characters; `_set_aside`'s 12 hex digits
        rf"\.(?:{names})\.(\d{{1,10}})\.(?:[a-z0-9_]{{8}}\.tmp|[0-9a-f]{{12}}\{_ASIDE})"
    )
    ours = str(os.getpid())
    for path in folder.iterdir():
        found = made.fullmatch(path.name)
        if found is not None and found[1] != ours:
            with contextlib.suppress(OSError):
                path.unlink()
