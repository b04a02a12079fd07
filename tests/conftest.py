import os
import sys

import numpy as np
import pytest

import tinygrad_bn as tg


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def away_from(values, points, margin=1e-3):
    """True when no value lies within ``margin`` of a kink at ``points`` (gradient checks skip kinks)."""
    return all(np.abs(values - p).min() > margin for p in points) if values.size else True


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
def alt_device(monkeypatch):
    """A second device: the CPU backend's very computation, registered as "alt"
    for the test (so it trains bit for bit like "cpu")."""
    from tinygrad_bn import backends
    from tinygrad_bn.backends.cpu import cpu_backend
    be = cpu_backend("alt")
    monkeypatch.setitem(backends._BACKENDS, "alt", be)
    be.seed(0)
    return be


@pytest.fixture
def train_simplenet_bn():
    """A function: (device, steps=3) -> (model, last loss), for comparing devices."""
    return _train_simplenet_bn


@pytest.fixture
def small_cuda_launches(monkeypatch):
    """For the CUDA tests: small blocks in the simulator (each thread is a
    Python thread there), the defaults on a GPU; and afterwards no queued check
    left behind by a test that failed between a check and its read."""
    from kernels.cuda import _common as kc  # only here: the simulator must be chosen before numba.cuda loads
    if kc.simulator():
        monkeypatch.setattr(kc.LAUNCH, "threads", 32)
        monkeypatch.setattr(kc.LAUNCH, "bn_channels", 8)
        monkeypatch.setattr(kc.LAUNCH, "row_threads", 4)
        monkeypatch.setattr(kc.LAUNCH, "rows_per_thread", 2)
        monkeypatch.setattr(kc.LAUNCH, "sm_count", 2)
        # the simulator's threads hand over the GIL at every barrier: switch often
        old = sys.getswitchinterval()
        sys.setswitchinterval(5e-5)
        yield
        sys.setswitchinterval(old)
    else:
        yield
    be = tg.backends.get_backend("cuda")
    be._pending.clear()
    be._flags.fill(0)


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
    items.sort(key=_start_order)


# The tests that take many seconds (or whose module fixture does), longest first.
# pytest-xdist's worksteal gives each worker a contiguous share of the list and
# lets an idle worker take the tail of another's queue, so tests at the front
# run first and are never taken: a long test that starts last keeps one worker
# busy while the other has nothing left. Whole modules move where a module
# fixture is costly, so its tests stay on one worker and it is built once.
# A long test missing here still runs, only later; ``--durations=20`` shows them.
LONG_FIRST = (
    "tests/kernels/test_cuda_simulator.py::test_the_cuda_suite_passes_in_numbas_simulator[rms",
    "tests/kernels/test_cuda_simulator.py",
    "tests/experiments/test_experiments.py",
    "tests/train/test_train.py::test_a_storm_of_sigints",
    "tests/kernels/test_kernel_interrupts.py",
    "tests/experiments/test_small_batch_and_train_vs_eval.py",
    "tests/distributed/test_distributed.py",
    "tests/threads/test_threads.py",
    "tests/experiments/test_experiment_measures.py",
)


def _start_order(item):
    """Sort key: the position of the first entry of LONG_FIRST that names the
    test (its module, or the test itself), then every other test in collection
    order (the sort is stable)."""
    for rank, prefix in enumerate(LONG_FIRST):
        if item.nodeid.startswith(prefix):
            return rank
    return len(LONG_FIRST)
