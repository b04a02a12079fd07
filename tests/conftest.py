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


def _train_simplenet_bn(device, steps=3):
    """SimpleNetBN trained ``steps`` SGD steps on seeded random batches of 16, on ``device``."""
    from tinygrad_bn import nn, optim
    from tinygrad_bn.models import SimpleNetBN
    tg.manual_seed(0)
    model = SimpleNetBN().to(device)
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    data_rng = np.random.default_rng(0)
    for _ in range(steps):
        x = tg.tensor(data_rng.standard_normal((16, 784)).astype(np.float32)).to(device)
        y = tg.tensor(data_rng.integers(0, 10, 16)).to(device)
        opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(x), y)
        loss.backward()
        opt.step()
    return model, loss


@pytest.fixture
def train_simplenet_bn():
    """A function: (device, steps=3) -> (model, last loss), for comparing devices."""
    return _train_simplenet_bn


from tinygrad_bn.testing import load_profile  # noqa: E402

PROFILE = load_profile()


# ------------------------------------------------------------------ CUDA markers

SIMULATOR = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda_sim: runs in Numba's CUDA simulator (a pytest process started "
                                       "with NUMBA_ENABLE_CUDASIM=1; tests/kernels/test_cuda_simulator.py starts one)")
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
    the simulator suite in a child process (tests/kernels/test_cuda_simulator.py)."""
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
