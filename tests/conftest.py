import os

import numpy as np
import pytest

import tinygrad_bn as tg


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def leaf(rng, *shape, positive=False, dtype=np.float64):
    a = rng.standard_normal(shape)
    if positive:
        a = np.abs(a) + 0.5
    return tg.tensor(a.astype(dtype), requires_grad=True)


from tinygrad_bn.testing import load_profile  # noqa: E402

PROFILE = load_profile()


# ------------------------------------------------------------------ CUDA markers

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda_sim: runs in Numba's CUDA simulator (a pytest process started "
                                       "with NUMBA_ENABLE_CUDASIM=1; tests/test_cuda_simulator.py starts one)")
    config.addinivalue_line("markers", "gpu: runs on a real NVIDIA GPU (CuPy and numba-cuda installed)")


def _real_gpu():
    if SIMULATOR:
        return False
    try:
        return tg.cuda.is_available()
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    """A CUDA test runs where one of its markers can: cuda_sim under the
    simulator, gpu on a GPU. Elsewhere it is deselected: the main run starts
    the simulator suite in a child process (tests/test_cuda_simulator.py)."""
    gpu = None
    keep, drop = [], []
    for item in items:
        marks = {m.name for m in item.iter_markers()} & {"cuda_sim", "gpu"}
        runnable = not marks or ("cuda_sim" in marks and SIMULATOR)
        if not runnable and "gpu" in marks:
            gpu = _real_gpu() if gpu is None else gpu
            runnable = gpu
        (keep if runnable else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
