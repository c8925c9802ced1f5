"""Atomic file writes: a temporary file in the same folder, flushed and fsynced, then renamed.  The file gets the
mode a plain ``open(path, "w")`` would give it (0644 under umask 022; an existing file keeps its mode), not the
temporary file's private 0600."""
import json
import os
import tempfile

from .errors import FileFormatError


def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one, never a part."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        mode = 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_json(path, obj):
    """``obj`` as indented, key-sorted JSON (deterministic bytes), written atomically."""
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode("utf-8"))


def _umask():
    """The process's umask, read without changing it where Linux shows it (/proc), else set and restored at once."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def writable_folder(path, flag):
    """Make sure ``path`` is a folder this process can write into (created if missing), before a long computation
    whose output goes there: a :class:`refimpl.FileFormatError` naming ``flag`` and the reason otherwise."""
    path = os.fspath(path)
    try:
        os.makedirs(path, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".refimpl-write-check.", dir=path)
        os.close(fd)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise FileFormatError(f"{flag} {path}: cannot write there ({reason})") from None
    return path


def writable_file(path, flag):
    """Make sure the file ``path`` can be written (its folder is writable, it is not a folder): as
    :func:`writable_folder`."""
    path = os.fspath(path)
    if os.path.isdir(path):
        raise FileFormatError(f"{flag} {path}: is a folder, not a file")
    writable_folder(os.path.dirname(os.path.abspath(path)), flag)
    return path


NPY_MAGIC, ZIP_MAGIC = b"\x93NUMPY", b"PK\x03\x04"


def file_kind(path):
    """``"npy"``, ``"npz"`` (a zip archive) or ``"other"`` by the file's first bytes, so that a text file named
    ``x.npy`` is called what it is (numpy would take it for a pickle and suggest ``allow_pickle``, which refimpl never
    uses); a missing or unreadable file raises :class:`OSError` as ``open`` does."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    return "npy" if head == NPY_MAGIC else "npz" if head[:4] == ZIP_MAGIC else "other"
