import os

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
        # Each simulated thread is a Python thread, waiting for the GIL at every
        # barrier: block threads from a pool, and the block's loop giving up the
        # GIL between polls (1.3x faster on a quiet machine, 3x on a busy one).
        from simulator_threads import pooled_block_threads
        pooled_block_threads(monkeypatch)
        yield
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
    items[:] = long_tests_first(items, getattr(config, "workerinput", {}).get("workercount", 1))


# The tests that take many seconds (or whose module fixture does), in the order
# they are dealt out. pytest-xdist's worksteal gives each of n workers a
# contiguous 1/n share of the list and lets an idle worker take the tail of
# another's queue, so the tests at the front of a share run first and are not
# taken: a long test that starts last keeps one worker busy while the others
# have nothing left. So entry k goes to the front of share k mod n, and
# whole modules move where a module fixture is costly, so that its tests run
# on one worker and it is built once. Entries alternate between the two
# workers of a 2-core machine with about the same seconds on each (the two
# simulator children, pinned to one CPU each, run side by side).
# A long test missing here still runs, only later; ``--durations=20`` shows them.
LONG_FIRST = (
    "tests/kernels/test_cuda_simulator.py::test_the_cuda_suite_passes_in_numbas_simulator[rms",  # ~35 s
    "tests/experiments/test_experiments.py",                                                     # ~50 s
    "tests/kernels/test_cuda_simulator.py::test_every_cuda_kernel_compiles",                     # ~30 s
    "tests/kernels/test_cuda_simulator.py::test_the_cuda_suite_passes_in_numbas_simulator[kernels",  # ~15 s
    "tests/train/test_train.py::test_a_storm_of_sigints",                                        # ~15 s
    "tests/kernels/test_kernel_interrupts.py",                                                   # ~11 s
    "tests/experiments/test_small_batch_and_train_vs_eval.py",                                   # ~10 s
    "tests/distributed/test_distributed.py",                                                     # ~37 s
    "tests/threads/test_threads.py",                                                             # ~21 s
    "tests/experiments/test_experiment_measures.py",                                             # ~6 s
)


def _long_rank(item):
    """The index of the first LONG_FIRST entry that names the test (its module
    or itself), or None."""
    return next((k for k, prefix in enumerate(LONG_FIRST) if item.nodeid.startswith(prefix)), None)


def long_tests_first(items, workers):
    """``items`` with the LONG_FIRST tests at the fronts of the workers' shares
    (entry k at share k mod ``workers``), the rest in collection order between."""
    groups = [[] for _ in LONG_FIRST]
    rest = []
    for item in items:
        k = _long_rank(item)
        (rest if k is None else groups[k]).append(item)
    heads = [[] for _ in range(max(workers, 1))]
    for k, group in enumerate(groups):
        heads[k % len(heads)].extend(group)
    # the shares are len // workers items each: fill each after its head from the rest
    share = len(items) // len(heads)
    ordered, taken = [], 0
    for w, head in enumerate(heads):
        ordered.extend(head)
        fill = len(rest) - taken if w == len(heads) - 1 else max(share - len(head), 0)
        ordered.extend(rest[taken:taken + fill])
        taken += fill
    return ordered
