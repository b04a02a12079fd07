"""Backends: where the array math of an op runs, chosen by the tensor's device.

An op never calls an array library itself; it calls ``ctx.backend.<name>(...)``
with a name from the written contract (``backends/contract.py``: a small core
each device provides, a derived layer built from it, and the device's
normalization kernels). A new device is one file that builds an
``ArrayBackend`` (or another class with the core, subclassing ``Derived``) and
calls ``register_backend``; no op changes.
"""
from .array import ArrayBackend
from .contract import CONTRACT, CORE, DERIVED, KERNEL_NAMES, Core, Derived
from .cpu import cpu_backend

_BACKENDS = {"cpu": cpu_backend()}
_last_seed = [0]


def get_backend(device: str):
    """The backend object for a device name such as ``"cpu"`` or ``"cuda"``
    (``"cuda:0"`` too: one GPU). The CUDA backend is made on first use."""
    try:
        return _BACKENDS[device]
    except (KeyError, TypeError):
        pass
    if device in ("cuda", "cuda:0"):
        if "cuda" not in _BACKENDS:
            from .cuda import cuda_backend
            register_backend("cuda", cuda_backend())
        return _BACKENDS["cuda"]
    if isinstance(device, str) and device.startswith("cuda:"):
        raise ValueError(f"device {device!r}: only one GPU is supported; use 'cuda' (or 'cuda:0')")
    raise ValueError(
        f"unknown device {device!r}; available devices: {sorted(set(_BACKENDS) | {'cuda'})}. "
        "Pass one of these names (e.g. device='cpu')."
    )


def register_backend(device: str, backend) -> None:
    """Make ``backend`` the array engine for tensors on ``device``; its generator
    starts from the seed last given to ``manual_seed``."""
    missing = [n for n in CONTRACT if not hasattr(backend, n)]
    kernels = getattr(backend, "kernels", None)
    missing += [f"kernels.{n}" for n in KERNEL_NAMES if kernels is not None and not hasattr(kernels, n)]
    if missing:
        raise TypeError(f"register_backend: {device!r} lacks contract names {missing}; see backends/contract.py "
                        "(a class with the core names that subclasses backends.Derived has all the others)")
    if backend.name != device:
        raise ValueError(f"register_backend: the backend is named {backend.name!r}, registered as {device!r}")
    backend.seed(_last_seed[0])
    _BACKENDS[device] = backend


def seed_all(seed: int) -> None:
    """Restart every device's generator from ``seed``."""
    _last_seed[0] = seed
    for be in _BACKENDS.values():
        be.seed(seed)


def last_seed() -> int:
    """The seed the generators were last reset from (0 at start)."""
    return _last_seed[0]


def devices():
    return sorted(_BACKENDS)


def move(array, source, target):
    """A copy of ``array`` (of backend ``source``) on backend ``target``, through host
    memory; never the same memory, even between two backends over one array module."""
    host = source.to_numpy(array)
    out = target.asarray(host)
    return target.copy(out) if out is host or out is array else out


__all__ = ["ArrayBackend", "CONTRACT", "CORE", "Core", "DERIVED", "Derived", "KERNEL_NAMES", "cpu_backend",
           "devices", "get_backend", "last_seed", "move", "register_backend", "seed_all"]
