"""One thread setting for both CPU pools, and the defaults that keep them from
fighting."""
import os
import subprocess
import sys

import numba
import pytest
from threadpoolctl import threadpool_info

import tinygrad_bn as tg


def _blas_threads():
    return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]


def test_set_num_threads_limits_numba_and_blas_and_checks_its_argument():
    before, blas_before = tg.get_num_threads(), _blas_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1 == numba.get_num_threads()
        assert _blas_threads() and set(_blas_threads()) == {1}
    finally:
        numba.set_num_threads(before)
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=max(blas_before or [1]), user_api="blas")
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive int"):
            tg.set_num_threads(bad)
    with pytest.raises(ValueError, match="NUMBA_NUM_THREADS"):
        tg.set_num_threads(numba.config.NUMBA_NUM_THREADS + 1)


def test_idle_openmp_threads_sleep_unless_the_user_chose_a_policy():
    code = "import os, tinygrad_bn; print(os.environ['OMP_WAIT_POLICY'])"
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "PASSIVE"
    env["OMP_WAIT_POLICY"] = "ACTIVE"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ACTIVE"


def test_small_kernels_stay_on_the_calling_thread():
    from kernels.cpu import _common
    assert _common.SERIAL_BELOW >= 1 << 20  # a SimpleNetBN batch of 1024 (131K values) wakes no pool


def _spied_matmul(monkeypatch):
    """(get_threads, seen, NumPy's matmul, the one-thread matmul), where ``seen`` gets
    OpenBLAS's count at each NumPy product; skips without a pthreads OpenBLAS."""
    import numpy as np

    from tinygrad_bn.backends import blas
    functions = blas._openblas_thread_functions()
    if functions is None:
        pytest.skip("NumPy's BLAS is not a pthreads OpenBLAS: matmul is np.matmul")
    get_threads, _ = functions
    seen = []
    real = np.matmul

    def spy(a, b, **out):
        seen.append(get_threads())
        return real(a, b, **out)
    monkeypatch.setattr(np, "matmul", spy)
    return get_threads, seen, real, blas.small_products_on_one_thread()


def test_small_products_run_on_one_blas_thread_and_the_count_comes_back(monkeypatch):
    import numpy as np
    from threadpoolctl import threadpool_limits

    from tinygrad_bn.backends import blas
    get_threads, seen, real, matmul = _spied_matmul(monkeypatch)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((64, 100)), rng.standard_normal((100, 30))
    with threadpool_limits(limits=1, user_api="blas"):  # the same computation: bit for bit
        want, want_vector = real(a, b), real(a, b[:, 0])
    with threadpool_limits(limits=2, user_api="blas"):
        before = get_threads()
        np.testing.assert_array_equal(matmul(a, b), want)
        np.testing.assert_array_equal(matmul(a, b[:, 0]), want_vector)
        assert seen == [1, 1] and get_threads() == before  # one thread inside, restored after
        monkeypatch.setattr(blas, "SERIAL_BELOW", 10)
        for _ in range(2 * blas.PROBE_EVERY):  # large products, serial and in bands: one thread each, the same bits
            np.testing.assert_array_equal(matmul(a, b), want)
        assert set(seen) == {1} and get_threads() == before
        (chooser,) = matmul.choosers.values()  # one shape, one chooser
        assert chooser.cost["serial"] is not None and chooser.cost["split"] is not None
        np.testing.assert_array_equal(matmul(a[:, :50], b[:50]), real(a[:, :50], b[:50]))  # another shape ...
        assert len(matmul.choosers) == 2 and chooser.count == 2 * blas.PROBE_EVERY  # ... has its own chooser


_NUMPYS_COUNT = """
import json, os, numpy as np
try:
    import scipy.linalg  # its wheels bring an OpenBLAS of their own: then there are two
except ImportError:
    pass
from threadpoolctl import ThreadpoolController
from tinygrad_bn.backends import blas
functions = blas._openblas_thread_functions()
if functions is not None:
    functions[1](1)
package = os.path.dirname(os.path.realpath(np.__file__))
counts = {c.filepath: c.num_threads for c in ThreadpoolController().lib_controllers if c.internal_api == "openblas"}
numpys = [n for f, n in counts.items() if os.path.realpath(f).startswith((package + os.sep, package + ".libs" + os.sep))]
print(json.dumps({"functions": functions is not None, "libraries": len(counts), "numpys": numpys}))
"""


def test_the_count_set_for_a_product_is_the_one_of_numpys_own_openblas():
    """With SciPy imported a process holds two OpenBLAS libraries, listed in an
    order that changes from process to process: the count must be set on the
    one NumPy calls in every process (else its products run on every core, with
    other bits). Several processes, each with another hash seed."""
    import json

    for seed in range(6):
        env = dict(os.environ, PYTHONHASHSEED=str(seed), OPENBLAS_NUM_THREADS="2")
        run = subprocess.run([sys.executable, "-c", _NUMPYS_COUNT], capture_output=True, text=True, env=env,
                             timeout=120)
        assert run.returncode == 0, run.stderr
        got = json.loads(run.stdout.strip().splitlines()[-1])
        if not got["functions"] or not got["numpys"]:
            pytest.skip(f"NumPy's BLAS is not a pthreads OpenBLAS of its own wheel here: {got}")
        assert got["numpys"] == [1], (seed, got)


def test_numpys_openblas_is_told_apart_from_another_one():
    from types import SimpleNamespace

    import numpy as np

    from tinygrad_bn.backends import blas
    package = os.path.dirname(os.path.realpath(np.__file__))

    def lib(path, api="openblas"):
        return SimpleNamespace(internal_api=api, filepath=path)
    ours = lib(os.path.join(package + ".libs", "libscipy_openblas64_-x.so"))
    scipys = lib("/site-packages/scipy.libs/libscipy_openblas-y.so")
    omp = lib("/usr/lib/libgomp.so.1", "openmp")
    assert blas.numpys_openblas([scipys, ours, omp]) is ours and blas.numpys_openblas([ours, scipys]) is ours
    assert blas.numpys_openblas([omp, scipys]) is scipys  # the only one: NumPy's
    assert blas.numpys_openblas([omp]) is None and blas.numpys_openblas([]) is None
    assert blas.numpys_openblas([scipys, lib("/usr/lib/libopenblas.so.0")]) is None  # two, neither NumPy's


def test_two_openblas_libraries_neither_numpys_leave_products_alone_and_say_so(monkeypatch):
    from types import SimpleNamespace

    import threadpoolctl

    from tinygrad_bn.backends import blas
    libs = [SimpleNamespace(internal_api="openblas", filepath=p) for p in ("/a/libopenblas.so", "/b/libopenblas.so")]
    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", lambda: SimpleNamespace(lib_controllers=libs))
    with pytest.warns(RuntimeWarning, match="cannot tell which of 2 OpenBLAS libraries NumPy calls"):
        assert blas._openblas_thread_functions() is None


def test_a_product_split_or_not_is_the_one_thread_product_bit_for_bit(monkeypatch):
    """Bands compute the product (close to it in value), and through the matmul every
    product, split or not, has the one-thread product's bits: whether a band gives the
    bits of the whole depends on the CPU's OpenBLAS kernels, so the first split of each
    shape is checked and a shape whose bands differ stays serial."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    from threadpoolctl import threadpool_limits

    from tinygrad_bn.backends import blas
    if blas._openblas_thread_functions() is None:
        pytest.skip("NumPy's BLAS is not a pthreads OpenBLAS: matmul is np.matmul")
    monkeypatch.setattr(blas, "SERIAL_BELOW", 1)
    matmul = blas.small_products_on_one_thread()
    rng = np.random.default_rng(0)
    pool = ThreadPoolExecutor(3)
    shapes = [((4096, 784), (784, 64)), ((64, 4096), (4096, 784)), ((1024, 784), (784, 128)), ((7, 33), (33, 5))]
    for (m, k), (_, n) in shapes:
        for dtype in (np.float32, np.float64):
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((n, k)).astype(dtype).T  # a transposed operand, as Linear's weight
            with threadpool_limits(limits=1, user_api="blas"):
                want = a @ b
                # two orders of a sum of k products each lie within k eps sum|a b| of the exact one
                bound = 2 * k * np.finfo(dtype).eps * (np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64))
                for bands in (2, 3, 4):
                    got = blas.split_rows(a, b, bands, pool)
                    assert got.dtype == want.dtype and got.flags.c_contiguous
                    assert (np.abs(got.astype(np.float64) - want) <= bound).all(), (m, k, n, dtype, bands)
            with threadpool_limits(limits=2, user_api="blas"):
                for _ in range(2 * blas.PROBE_EVERY):  # serial, split (checked), then the faster way
                    np.testing.assert_array_equal(matmul(a, b), want)
    assert len(matmul.same_bits) == 2 * len(shapes)  # each shape's first split was checked


def test_a_shape_whose_bands_differ_from_the_serial_product_is_never_split(monkeypatch):
    """The first split of a shape is checked against the serial product: bands that differ
    in a bit (as OpenBLAS's small-matrix code can make them) leave the shape serial from
    then on; bands that agree keep the split in the running."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from tinygrad_bn.backends import blas
    if blas._openblas_thread_functions() is None:
        pytest.skip("NumPy's BLAS is not a pthreads OpenBLAS: matmul is np.matmul")
    monkeypatch.setattr(blas, "SERIAL_BELOW", 1)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((7, 33)).astype(np.float32), rng.standard_normal((33, 5)).astype(np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        want = a @ b
    for differ in (True, False):
        splits = []

        def split_rows(a, b, bands, pool, differ=differ):
            splits.append(bands)
            out = np.matmul(a, b)
            if differ:  # the last bit of one element
                out[3, 2] = np.nextafter(out[3, 2], np.float32(np.inf))
            return out
        monkeypatch.setattr(blas, "split_rows", split_rows)
        matmul = blas.small_products_on_one_thread()
        with threadpool_limits(limits=2, user_api="blas"):
            for _ in range(3 * blas.PROBE_EVERY):
                np.testing.assert_array_equal(matmul(a, b), want)
        assert list(matmul.same_bits.values()) == [not differ]
        assert len(splits) == 1 if differ else len(splits) >= 3  # tried once; or split, and probed again


def test_a_products_multiply_adds_decide_whether_it_may_be_split(monkeypatch):
    """m * k * n multiply-adds, SERIAL_BELOW or more: the product is a candidate for bands
    (its shape gets a chooser); fewer: serial, never looked at."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from tinygrad_bn.backends import blas
    if blas._openblas_thread_functions() is None:
        pytest.skip("NumPy's BLAS is not a pthreads OpenBLAS: matmul is np.matmul")
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((8, 16)), rng.standard_normal((16, 4))  # 8 * 16 * 4 = 512
    for threshold, considered in ((513, False), (512, True)):
        monkeypatch.setattr(blas, "SERIAL_BELOW", threshold)
        matmul = blas.small_products_on_one_thread()
        with threadpool_limits(limits=2, user_api="blas"):
            np.testing.assert_array_equal(matmul(a, b), a @ b)
        assert bool(matmul.choosers) == considered, threshold  # a chooser times the ways of each candidate
    # split, its bands beyond the first go to a pool of one thread fewer than the count (the caller
    # computes the first band itself)
    with threadpool_limits(limits=2, user_api="blas"):
        for _ in range(4):
            np.testing.assert_array_equal(matmul(a, b), a @ b)
    assert [(n, pool._max_workers) for n, pool in matmul.pools.items()] == [(2, 1)]


def test_a_replayed_small_product_reads_the_count_once_per_replay(monkeypatch):
    """A compiled step's form of a product below SERIAL_BELOW: when OpenBLAS's count
    was 1 as the replay began (``before_replay``), NumPy directly; otherwise the
    one-thread matmul, which sets the count for the product and puts it back."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    from tinygrad_bn.backends import blas
    get_threads, seen, real, matmul = _spied_matmul(monkeypatch)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((64, 100)), rng.standard_normal((100, 30))
    monkeypatch.setattr(blas, "SERIAL_BELOW", 64 * 100 * 30)
    assert matmul.replay_form(a, b) is None  # a candidate for bands: the matmul itself
    monkeypatch.setattr(blas, "SERIAL_BELOW", 64 * 100 * 30 + 1)
    form = matmul.replay_form(a, b)
    assert matmul.replay_form(a, b[:, 0]).before_replay is form.before_replay  # one read for all products
    with threadpool_limits(limits=1, user_api="blas"):
        want = real(a, b)
    with threadpool_limits(limits=2, user_api="blas"):
        form.before_replay()
        seen.clear()
        np.testing.assert_array_equal(form(a, b), want)
        assert seen == [1] and get_threads() == 2  # through the matmul: one thread inside, restored after
    with threadpool_limits(limits=1, user_api="blas"):
        form.before_replay()
    with threadpool_limits(limits=2, user_api="blas"):  # a count changed during the replay is not seen ...
        seen.clear()
        form(a, b)
        assert seen == [2]  # ... because the product went to NumPy directly
        form.before_replay()  # the next replay reads it again
        seen.clear()
        np.testing.assert_array_equal(form(a, b), want)
        assert seen == [1] and get_threads() == 2
    # what a replay read is its thread's: another thread's replay that began at a count of 1
    # leaves this thread's products taking the turn
    import threading

    def other_replay():
        with threadpool_limits(limits=1, user_api="blas"):
            form.before_replay()
    other = threading.Thread(target=other_replay)
    other.start()
    other.join()
    with threadpool_limits(limits=2, user_api="blas"):
        seen.clear()
        np.testing.assert_array_equal(form(a, b), want)
        assert seen == [1] and get_threads() == 2


def test_the_chooser_takes_the_faster_way_and_keeps_trying_the_other():
    from tinygrad_bn.backends import blas
    chooser = blas.SplitChooser()
    speed = {"serial": 2.0, "split": 1.0}  # seconds per multiply-add, as the machine gives them
    picks = []
    for i in range(6 * blas.PROBE_EVERY):
        if i == 3 * blas.PROBE_EVERY:
            speed["split"] = 5.0  # load arrives: the split waits for a descheduled thread
        way = chooser.pick()
        picks.append(way)
        chooser.record(way, speed[way] * 100, 100)
    quiet, loaded = picks[:3 * blas.PROBE_EVERY], picks[-2 * blas.PROBE_EVERY:]
    assert quiet.count("split") > 0.8 * len(quiet) and quiet.count("serial") >= 2  # the other way tried again
    # each way once to start, then the other way on every PROBE_EVERY-th product, no more often
    assert [i for i, way in enumerate(quiet) if way == "serial"] == [0] + [
        k * blas.PROBE_EVERY - 1 for k in range(1, 4)]
    probes = [i for i, way in enumerate(loaded) if way == "split"]
    assert [(len(picks) - 2 * blas.PROBE_EVERY + i + 1) % blas.PROBE_EVERY for i in probes] == [0] * len(probes)
    assert loaded.count("serial") > 0.8 * len(loaded) and "split" in loaded


def test_the_cpu_backend_uses_the_one_thread_matmul_for_small_products():
    from tinygrad_bn.backends import blas, get_backend
    be = get_backend("cpu")
    if blas._openblas_thread_functions() is not None:
        assert be.matmul is not np_matmul()


def np_matmul():
    import numpy as np
    return np.matmul


# Run in a fresh interpreter with two pool threads, so the first large kernel
# really starts the pool (and the process's threading layer is the one chosen).
_BIG_STEP = """
import numpy as np
import tinygrad_bn as tg
import tinygrad_bn.nn.functional as F

tg.manual_seed(0)
x = tg.randn(2048, 600)  # over the serial threshold
weights = tg.randn(2048, 600)

def step():
    leaf = x.detach().requires_grad_()  # one leaf per call, so threads keep their own .grad
    y = F.batch_norm(leaf, None, None, training=True)
    (y * weights).sum().backward()
    return F.layer_norm(x, (600,)).numpy(), leaf.grad.numpy()

ln_ref, grad_ref = step()
"""


def _run(code, **env):
    env = dict(os.environ, NUMBA_NUM_THREADS="2", **env)
    return subprocess.run([sys.executable, "-c", _BIG_STEP + code], env=env, capture_output=True,
                          text=True, timeout=300)


def test_a_child_forked_after_a_parallel_kernel_runs_the_kernels_on_one_thread():
    # GNU OpenMP aborts a forked child that starts a parallel region after its
    # parent used the pool; the kernels see the fork and stay on one thread.
    out = _run("""
import os
pid = os.fork()
if pid == 0:
    ln, grad = step()
    os._exit(0 if np.array_equal(ln, ln_ref) and np.allclose(grad, grad_ref, rtol=1e-4, atol=1e-6) else 3)
print("child", os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
ln, grad = step()  # the parent keeps its pool
print("parent", np.array_equal(ln, ln_ref) and np.array_equal(grad, grad_ref))
""")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["child", "0", "parent", "True"], out.stdout + out.stderr
    assert "forked after its parent used Numba's thread pool" in out.stderr


@pytest.mark.parametrize("layer", ["workqueue", "default"])
def test_training_threads_share_the_kernels_under_any_threading_layer(layer):
    # The workqueue layer aborts the process on a second concurrent parallel
    # launch; the kernels run a thread that finds the pool busy serially instead.
    out = _run("""
import threading, numba
results = []
def work():
    for _ in range(6):
        results.append(step())
threads = [threading.Thread(target=work) for _ in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
ok = all(np.array_equal(ln, ln_ref) and np.allclose(g, grad_ref, rtol=1e-4, atol=1e-6) for ln, g in results)
print(numba.threading_layer(), len(results), ok)
""", **({"NUMBA_THREADING_LAYER": layer} if layer != "default" else {}))
    assert out.returncode == 0, out.stderr
    layer_used, count, ok = out.stdout.split()
    assert (layer_used == "workqueue") == (layer == "workqueue")
    assert count == "18" and ok == "True", out.stdout


_TRAIN_IN_THREADS = """
import threading
import numpy as np
import tinygrad_bn as tg
from tinygrad_bn import nn, optim
from tinygrad_bn.models import SimpleNet

def run(seed, batch, steps=30):
    # its own generator for data; weights from a model built under a lock (manual_seed is global)
    with build_lock:
        tg.manual_seed(seed)
        model = SimpleNet()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        x = tg.tensor(rng.standard_normal((batch, 784)).astype(np.float32))
        y = tg.tensor(rng.integers(0, 10, batch))
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(x), y).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in model.parameters()]

build_lock = threading.Lock()
jobs = [(0, 256), (1, 512), (2, 4096), (3, 1024)]  # 4096 x 784 x 64: a product over the one-thread threshold
serial = [run(*job) for job in jobs]
together = [None] * len(jobs)
def work(k):
    together[k] = run(*jobs[k])
threads = [threading.Thread(target=work, args=(k,)) for k in range(len(jobs))]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(all(all(np.array_equal(a, b) for a, b in zip(s, t)) for s, t in zip(serial, together)))
"""


def test_threads_training_at_once_give_the_weights_of_serial_runs_bit_for_bit():
    """The one-thread policy for small products is safe when several threads multiply at once."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="2")
    out = subprocess.run([sys.executable, "-c", _TRAIN_IN_THREADS], env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True"], out.stdout + out.stderr


def test_the_thread_count_functions_come_from_a_pthreads_openblas_only(monkeypatch):
    """Setting OpenBLAS's count around a product works with its pthreads
    build; an OpenMP build takes its count from OpenMP, so there the functions
    are not used (matmul stays np.matmul). Checked with a stand-in controller
    of each kind, and on this machine's own library (the products test above
    skips where they are None, so None must mean a library that is not a
    pthreads OpenBLAS)."""
    from types import SimpleNamespace

    import threadpoolctl

    from tinygrad_bn.backends import blas

    def controller(layer, symbols=("openblas_get_num_threads", "openblas_set_num_threads")):
        return SimpleNamespace(internal_api="openblas", filepath="/x/libopenblas.so", threading_layer=layer,
                               _get_symbol=lambda name: f"<{name}>" if name in symbols else None)

    real = threadpoolctl.ThreadpoolController
    numpys = blas.numpys_openblas(real().lib_controllers)
    on_this_machine = blas._openblas_thread_functions()
    assert (on_this_machine is not None) == (numpys is not None and numpys.threading_layer == "pthreads"), \
        getattr(numpys, "threading_layer", None)
    for lib, want in ((controller("pthreads"), ("<openblas_get_num_threads>", "<openblas_set_num_threads>")),
                      (controller("openmp"), None), (controller("pthreads", symbols=()), None)):
        monkeypatch.setattr(threadpoolctl, "ThreadpoolController", lambda lib=lib: SimpleNamespace(lib_controllers=[lib]))
        assert blas._openblas_thread_functions() == want, lib.threading_layer
