"""Backends: where the array math of an op runs, chosen by the tensor's device.

An op never calls an array library itself; it calls ``ctx.backend.<name>(...)``.
Every backend implements the same set of names (see ``cpu.CPUBackend`` for the
reference list), so a new device slots in by adding one class here.
"""
from .cpu import CPUBackend

_BACKENDS = {"cpu": CPUBackend()}


def get_backend(device: str):
    """The backend object for a device name such as ``"cpu"``."""
    try:
        return _BACKENDS[device]
    except KeyError:
        raise ValueError(
            f"unknown device {device!r}; available devices: {sorted(_BACKENDS)}"
        ) from None


def register_backend(device: str, backend) -> None:
    """Make ``backend`` the array engine for tensors on ``device``."""
    _BACKENDS[device] = backend


__all__ = ["get_backend", "register_backend", "CPUBackend"]
