"""One stamp for a folder of cached Numba kernels, so an edit anywhere in the
folder invalidates every kernel compiled from it.

Numba's on-disk cache (``cache=True``) checks only a function's own source
file (its modification time and size). A kernel that calls a jitted function
from another file of its folder (``kernels/cpu/groupnorm.py`` calls layer
norm's row statistics; the CUDA kernels call device functions from
``_common.py``) has that callee compiled into its own cached machine code, so
after an edit of the callee's file alone it would go on running the old copy.
``drop_stale_kernel_cache(folder)`` keeps a SHA-256 of the folder's sources in
its ``__pycache__``; when they change, every cached kernel there is removed and
recompiled on first use. Each kernel package calls it when it is imported,
before any kernel is compiled or loaded.
"""
import glob
import hashlib
import os

STAMP_NAME = "kernel-sources.sha256"


def sources_digest(folder) -> str:
    """SHA-256 over the ``*.py`` files of ``folder``, in name order."""
    digest = hashlib.sha256()
    for path in sorted(glob.glob(os.path.join(folder, "*.py"))):
        digest.update(os.path.basename(path).encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def drop_stale_kernel_cache(folder) -> int:
    """Remove the Numba cache files (``*.nbi``, ``*.nbc``) in ``folder/__pycache__``
    unless they were written for the sources the folder holds now (the stamp
    says so); then stamp the current sources. Returns the number of files removed."""
    digest = sources_digest(folder)
    cache = os.path.join(folder, "__pycache__")
    stamp = os.path.join(cache, STAMP_NAME)
    try:
        with open(stamp) as f:
            if f.read() == digest:
                return 0
    except OSError:
        pass  # no stamp yet: nothing cached there is trusted
    removed = 0
    for path in glob.glob(os.path.join(cache, "*.nbi")) + glob.glob(os.path.join(cache, "*.nbc")):
        try:
            os.remove(path)
            removed += 1
        except OSError:  # another process removed it first
            pass
    try:
        os.makedirs(cache, exist_ok=True)
        with open(stamp, "w") as f:
            f.write(digest)
    except OSError:  # a read-only install: Numba then caches elsewhere or not at all
        pass
    return removed
