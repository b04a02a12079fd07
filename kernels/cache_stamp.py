"""One stamp for a folder of cached Numba kernels, so an edit anywhere in the
folder invalidates every kernel compiled from it.

Numba's on-disk cache (``cache=True``) checks only a function's own source
file (its modification time and size). A kernel that calls a jitted function
from another file of its folder (``kernels/cpu/groupnorm.py`` calls layer
norm's row statistics; the CUDA kernels call device functions from
``_common.py``) has that callee compiled into its own cached machine code, so
after an edit of the callee's file alone it would go on running the old copy.
``drop_stale_kernel_cache(folder)`` keeps a SHA-256 of the folder's sources
beside the cached kernels, wherever Numba puts them for that folder (its
``__pycache__``, the folder under ``NUMBA_CACHE_DIR``, or the per-user cache
of a read-only install: Numba's own cache locators say which); when the
sources change, every cached kernel there is removed and recompiled on first
use. Each kernel package calls it when it is imported, before any kernel is
compiled or loaded.
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


def cache_folders(folder, locator_classes=None):
    """Where Numba caches what it compiles from ``folder``'s files: the folder's
    ``__pycache__`` and the place the first of ``locator_classes`` (Numba's cache
    locators, in Numba's order) that accepts the folder names."""
    folders = [os.path.join(folder, "__pycache__")]
    source = os.path.join(folder, "__init__.py")

    def probe():  # a function "defined in" the folder, as the locators expect one
        pass

    for cls in locator_classes or ():
        try:
            locator = cls.from_function(probe, source)
        except Exception:  # a locator of another Numba version that wants more than a probe
            continue
        if locator is not None:
            path = locator.get_cache_path()
            if os.path.abspath(path) != os.path.abspath(folders[0]):
                folders.append(path)
            break
    return folders


def numba_locators(target="cpu"):
    """Numba's cache locator classes for the CPU target or for numba.cuda's."""
    try:
        if target == "cuda":
            from numba.cuda.core import caching
        else:
            from numba.core import caching
    except ImportError:
        return ()
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    return tuple(getattr(impl, "_locator_classes", ()))


def drop_stale_kernel_cache(folder, locator_classes=None) -> int:
    """Remove the Numba cache files (``*.nbi``, ``*.nbc``) kept for ``folder``
    (see ``cache_folders``) unless they were written for the sources the folder
    holds now (the stamp beside them says so); then stamp the current sources.
    Returns the number of files removed."""
    digest = sources_digest(folder)
    removed = 0
    for cache in cache_folders(folder, locator_classes):
        removed += _drop_unless_stamped(cache, digest)
    return removed


def _drop_unless_stamped(cache, digest):
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
    except OSError:  # not writable: Numba then caches elsewhere (another locator) or not at all
        pass
    return removed
