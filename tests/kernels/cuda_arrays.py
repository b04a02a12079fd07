"""Helpers the CUDA kernel tests share: arrays onto the kernels' device and back,
and a relative-error comparison. Imported only by tests that run with the CUDA
target chosen (the simulator or a GPU)."""
import numpy as np

from kernels.cuda import _common as kc

SIMULATED = kc.simulator()


def dev(a):
    """A host array on the kernels' device (CuPy on a GPU, NumPy in the simulator)."""
    if SIMULATED:
        return np.ascontiguousarray(a)
    import cupy
    return cupy.asarray(a)


def host(a):
    return a if isinstance(a, np.ndarray) else a.get()


def close(got, want, dtype, what, scale=1.0):
    tol = (1e-12 if dtype == np.float64 else 2e-6) * scale
    got = np.asarray(host(got), np.float64)
    want = np.asarray(want, np.float64)
    assert got.shape == want.shape, (what, got.shape, want.shape)
    err = np.max(np.abs(got - want) / (1.0 + np.abs(want))) if want.size else 0.0
    assert err <= tol, f"{what}: max relative error {err:.3g} > {tol:.3g}"
