"""Classes of bugs the sampled mutation run (tools/mutate_sample.py) found
untested: argument checks that let a wrong value through when another check
happens to agree, warning boundaries, non-finite values where PyTorch takes
them, one-variable statistics, and a fallback for a missing optional package."""
import math
import re
import warnings

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn
from tinygrad_bn.utils.data import random_split


@pytest.mark.parametrize("lengths", [[-1, 11], [11, -1], [-2, 6, 6], [2.5, 7.5], [np.float64(5), 5]],
                         ids=["negative first", "negative last", "negative middle", "floats summing to n",
                              "a numpy float"])
def test_random_split_refuses_lengths_that_are_not_counts_even_when_they_sum_to_n(lengths):
    """The sum check alone passes these: each count must be checked on its own."""
    with pytest.raises(ValueError, match="random_split: lengths .* must be non-negative counts"):
        random_split(list(range(10)), lengths)


def test_random_split_takes_counts_as_python_or_numpy_ints():
    parts = random_split(list(range(10)), [np.int64(4), 6], seed=0)
    assert [len(p) for p in parts] == [4, 6]
    assert sorted(i for p in parts for i in p) == list(range(10))


@pytest.mark.parametrize("mean, warns", [(-3.9, False), (-4.1, True), (2.9, False), (3.1, False),
                                         (3.9, False), (4.1, True)])
def test_trunc_normal_warns_exactly_when_mean_is_more_than_two_std_outside_the_bounds(mean, warns):
    """PyTorch's rule on both sides: [a, b] = [-2, 2], std 1, so the edges are -4 and 4
    (between 1 and 2 std outside, as 2.9 to 3.9, there is no warning)."""
    t = tg.empty(50)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.init.trunc_normal_(t, mean=mean, std=1.0, a=-2.0, b=2.0)
    said = [w for w in caught if "more than 2 std" in str(w.message)]
    assert bool(said) == warns, (mean, [str(w.message) for w in caught])
    assert float(t.min()) >= -2.0 and float(t.max()) <= 2.0


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_constant_fills_take_non_finite_values_as_pytorch(value):
    t = nn.init.constant_(tg.empty(2, 3), value)
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), value, np.float32))
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(torch.nn.init.constant_(torch.empty(2, 3), value).numpy(), t.numpy())


def test_corrcoef_of_one_variable_is_one_or_nan_as_pytorch():
    one = tg.tensor([1.0, 2.0, 4.0]).corrcoef()
    assert one.shape == () and float(one) == 1.0
    assert math.isnan(float(tg.tensor([3.0, 3.0, 3.0]).corrcoef()))
    rows = tg.tensor([[1.0, 2.0, 4.0], [2.0, 1.0, 0.0]]).corrcoef().numpy()
    np.testing.assert_allclose(rows, np.corrcoef([[1.0, 2.0, 4.0], [2.0, 1.0, 0.0]]), rtol=1e-6)
    torch = pytest.importorskip("torch")
    assert float(torch.tensor([1.0, 2.0, 4.0]).corrcoef()) == 1.0


def test_the_compile_check_finds_ptxas_without_the_nvcc_wheel(monkeypatch, tmp_path):
    """Without the nvidia-cuda-nvcc package (an ImportError), ptxas comes from
    CUDA_HOME, then from PATH."""
    import builtins

    from kernels.cuda import compile_check
    real_import = builtins.__import__

    def no_nvcc_wheel(name, *args, **kwargs):
        if name.startswith("nvidia.cuda_nvcc") or name == "nvidia":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_nvcc_wheel)
    (tmp_path / "bin").mkdir()
    ptxas = tmp_path / "bin" / "ptxas"
    ptxas.write_text("#!/bin/sh\n")
    ptxas.chmod(0o755)
    monkeypatch.delenv("CUDA_PATH", raising=False)
    monkeypatch.setenv("CUDA_HOME", str(tmp_path))
    assert compile_check.find_ptxas() == str(ptxas)
    assert compile_check.find_ptxas("/given/ptxas") == "/given/ptxas"


@pytest.mark.parametrize(("assembled", "failure"), [
    ((40, 16, None), "16 bytes of register spills"),  # spills alone fail the check
    ((None, None, "ptxas fatal: bad ptx"), "ptxas fatal: bad ptx"),  # an assembler error alone
    ((40, 0, None), None),  # neither: passes
])
def test_the_compile_check_fails_on_spills_alone_and_on_an_assembler_error(monkeypatch, capsys, assembled, failure):
    """Each kernel, dtype and arch is one line; a spill or an assembler error makes it a FAIL
    line and a listed failure, and the check returns 1; otherwise it returns 0."""
    from kernels.cuda import _common, compile_check
    monkeypatch.setattr(compile_check.cuda, "compile_ptx", lambda fn, sig, cc: ("ptx", None))
    monkeypatch.setattr(compile_check, "assemble", lambda ptxas, ptx, arch: assembled)
    monkeypatch.setattr(_common, "REGISTRY", _common.REGISTRY[:1])
    code = compile_check.main(["--ptxas", "/no/ptxas", "--arch", "sm_80"])
    out = capsys.readouterr().out
    if failure is None:
        assert code == 0 and "FAIL" not in out and "failures:" not in out
        assert re.search(r"^ok  .* sm_80: 40 registers, 0 spill bytes$", out, re.MULTILINE), out
    else:
        assert code == 1 and re.search(r"^FAIL .* sm_80: ", out, re.MULTILINE), out
        assert failure in out.split("failures:")[1], out


@pytest.mark.parametrize("dim", [2, -3, 7])
def test_weight_norm_names_the_valid_dims_when_dim_is_out_of_range(dim):
    """The message gives the range a 2-D weight takes, [-2, 1], and the dim it got."""
    from tinygrad_bn.nn.utils import parametrizations
    with pytest.raises(IndexError, match=rf"weight_norm: dim {dim} is out of range for a 2-D weight .*"
                                         r"expected a dim in \[-2, 1\] or None"):
        parametrizations.weight_norm(nn.Linear(3, 4), dim=dim)


def test_gradients_are_averaged_in_buckets_of_the_given_size(monkeypatch):
    """DDP's buckets close once they hold bucket_bytes of float64 gradient: three
    10-element parameters (80 bytes each) in 160-byte buckets take two all-reduces,
    of 20 and 10 values, and each gradient's contribution is replaced by its mean
    over the ranks (two ranks here, the other contributing three times as much)."""
    from tinygrad_bn.distributed import buckets

    class TwoRanks:
        def Get_size(self):
            return 2

    reduced = []

    def sum_over_ranks(who, flat):
        reduced.append(flat.size)
        flat *= 4  # this rank's g plus the other's 3 g

    monkeypatch.setattr(buckets, "_comm", lambda who: TwoRanks())
    monkeypatch.setattr(buckets, "sum_in_place", sum_over_ranks)
    for bucket_bytes, calls in ((160, [20, 10]), (80, [10, 10, 10]), (1 << 20, [30])):
        params = [tg.zeros(10, requires_grad=True) for _ in range(3)]
        grads = {id(p): np.full(10, float(i + 1)) for i, p in enumerate(params)}
        for p in params:
            p.grad = tg.tensor(grads[id(p)].astype(np.float32))
        reduced.clear()
        buckets.average_in_buckets(params, grads, bucket_bytes=bucket_bytes)
        assert reduced == calls, bucket_bytes
        for i, p in enumerate(params):
            np.testing.assert_array_equal(p.grad.numpy(), np.full(10, 2.0 * (i + 1), np.float32))


@pytest.mark.parametrize("name", ["nansum", "nanmean"])
def test_nan_reductions_compute_in_the_dtype_they_are_given(name):
    t = tg.tensor([1e8, 1.0, float("nan"), -1e8], dtype=tg.float32)
    out = getattr(t, name)(dtype=tg.float64)
    assert out.dtype == np.float64
    # in float32, 1e8 + 1 rounds to 1e8 and the 1 is lost; in float64 it is kept
    assert float(out) == (1.0 if name == "nansum" else 1.0 / 3)
    assert getattr(t, name)().dtype == np.float32


def test_unique_consecutive_returns_the_values_alone_by_default_as_pytorch():
    out = tg.unique_consecutive(tg.tensor([1, 1, 2, 2, 3, 1, 1]))
    assert isinstance(out, tg.Tensor) and out.tolist() == [1, 2, 3, 1]
    values, inverse = tg.unique_consecutive(tg.tensor([1, 1, 2]), return_inverse=True)
    assert values.tolist() == [1, 2] and inverse.tolist() == [0, 0, 1]


def test_a_row_kernel_must_end_with_its_row_bounds():
    from numba import njit

    from kernels.cpu._common import parallel_rows

    @njit
    def rows_last(x, r0, r1):
        pass

    @njit
    def bounds_first(r0, r1, x):
        pass

    @njit
    def other_names(x, lo, hi):
        pass

    assert parallel_rows(rows_last).py_func.__name__ == "rows_last_par"
    with pytest.raises(TypeError, match=r"bounds_first must end with the arguments r0, r1, not \['r1', 'x'\]"):
        parallel_rows(bounds_first)
    with pytest.raises(TypeError, match=r"other_names must end with the arguments r0, r1, not \['lo', 'hi'\]"):
        parallel_rows(other_names)


def test_every_cpu_kernel_is_cached_on_disk():
    """A kernel compiled without cache=True compiles again in every process (seconds
    at each start-up): every Numba function of kernels/cpu is cached."""
    import importlib
    import pkgutil

    import kernels.cpu
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher
    uncached = []
    for info in pkgutil.iter_modules(kernels.cpu.__path__):
        module = importlib.import_module(f"kernels.cpu.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == module.__name__:
                if isinstance(obj._cache, NullCache):
                    uncached.append(f"{info.name}.{name}")
    assert not uncached, f"compiled without cache=True: {uncached}"


def test_every_cpu_kernel_releases_the_gil():
    """A kernel that holds the GIL serializes every thread that computes beside it
    (ranks run as threads, a user's own thread pool): every Numba function of
    kernels/cpu is compiled with nogil=True."""
    import importlib
    import pkgutil

    import kernels.cpu
    from numba.core.registry import CPUDispatcher
    holding = []
    for info in pkgutil.iter_modules(kernels.cpu.__path__):
        module = importlib.import_module(f"kernels.cpu.{info.name}")
        for name, obj in vars(module).items():
            if isinstance(obj, CPUDispatcher) and obj.__module__ == module.__name__:
                if not obj.targetoptions.get("nogil"):
                    holding.append(f"{info.name}.{name}")
    assert not holding, f"compiled without nogil=True: {holding}"


def test_experiments_record_the_commit_they_ran_from():
    import os
    import subprocess

    from tinygrad_bn.experiments import common
    root = os.path.dirname(os.path.dirname(os.path.abspath(tg.__file__)))
    if not os.path.exists(os.path.join(root, ".git")):
        pytest.skip("not a git checkout")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    assert common._git_state()["commit"] == head


@pytest.mark.parametrize("cupy_count, numba_sees, why", [
    (None, True, "CuPy is not installed"), (0, True, "CuPy finds no GPU"),
    (1, False, "numba.cuda finds no GPU"), (1, True, None)])
def test_the_cuda_device_says_why_it_cannot_start(monkeypatch, cupy_count, numba_sees, why):
    import sys
    import types

    from numba import cuda

    from tinygrad_bn.backends import cuda as cuda_backend
    if cupy_count is None:
        monkeypatch.setitem(sys.modules, "cupy", None)  # import cupy raises ImportError
    else:
        fake = types.ModuleType("cupy")
        fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: cupy_count))
        monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setattr(cuda, "is_available", lambda: numba_sees)
    problem = cuda_backend._gpu_problem()
    assert (problem is None) if why is None else problem.startswith(why)


@pytest.mark.parametrize("batch", [2, 3, 7])
def test_syncbn_running_variance_is_unbiased_at_every_global_batch(monkeypatch, batch):
    """In a world of one rank SyncBatchNorm's statistics are the batch's: the mean,
    and the variance with Bessel's correction n / (n - 1) for the running estimate,
    at the smallest batches too (2 samples: the factor is 2)."""
    from tinygrad_bn.distributed import syncbn

    class OneRank:
        def Get_size(self):
            return 1

        def Get_rank(self):
            return 0

    monkeypatch.setattr(syncbn, "_comm", lambda who: OneRank())
    monkeypatch.setattr(syncbn, "all_reduce_host", lambda who, values: np.array(values, np.float64, copy=True))
    x = np.random.default_rng(batch).standard_normal((batch, 3)) * [1.0, 5.0, 0.1] + [0.0, 2.0, -1.0]
    y, mean, unbiased = syncbn.SyncBatchNormOp.apply(tg.tensor(x), None, None, 1e-5)
    np.testing.assert_allclose(mean.numpy(), x.mean(0), rtol=1e-12)
    np.testing.assert_allclose(unbiased.numpy(), x.var(0, ddof=1), rtol=1e-10)
    np.testing.assert_allclose(y.numpy(), (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-5), rtol=1e-8, atol=1e-10)


def test_user_location_looks_from_the_caller_when_asked_to_skip_more_frames_than_there_are():
    import inspect

    from tinygrad_bn.tape import user_location
    here = inspect.currentframe().f_lineno + 1
    where = user_location(skip=100_000)
    assert where[0] == __file__ and where[1] == here


def test_get_device_is_minus_one_on_the_cpu_and_the_gpu_index_elsewhere():
    """As PyTorch: -1 on the CPU, the index on a GPU (0 when the device names none)."""
    import types

    assert tg.zeros(2).get_device() == -1
    for index, expected in ((None, 0), (0, 0), (1, 1)):
        stand_in = types.SimpleNamespace(device=types.SimpleNamespace(type="cuda", index=index))
        assert tg.Tensor.get_device(stand_in) == expected


def test_parametrize_names_what_tensor_name_may_be():
    from tinygrad_bn.nn.utils import parametrize
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match=r"register_parametrization: tensor_name must be a str \(the attribute's "
                                        r"name\), got int 3"):
        parametrize.register_parametrization(layer, 3, nn.Identity())
    parametrize.register_parametrization(layer, "weight", nn.Identity())
    with pytest.raises(TypeError, match=r"transfer_parametrizations_and_params: tensor_name must be a str or None "
                                        r"\(the attribute's name\), got int 3"):
        parametrize.transfer_parametrizations_and_params(layer, nn.Linear(2, 2), 3)


@pytest.mark.parametrize("shape", [(7, 3), (8, 3), (9, 2), (5, 4), (3, 5), (4, 4)])
@pytest.mark.parametrize("wrap", [False, True])
def test_fill_diagonal_wraps_tall_matrices_as_numpy_and_pytorch(shape, wrap):
    t = tg.zeros(*shape).fill_diagonal_(5.0, wrap=wrap)
    want = np.zeros(shape, np.float32)
    np.fill_diagonal(want, 5.0, wrap=wrap)
    np.testing.assert_array_equal(t.numpy(), want)
    torch = pytest.importorskip("torch")
    np.testing.assert_array_equal(torch.zeros(*shape).fill_diagonal_(5.0, wrap=wrap).numpy(), want)


def test_broadcastable_shapes_draws_scalars_and_every_rank_by_default():
    """The strategy's power: 0-d shapes (the corner case of broadcasting) among
    them, up to max_dims dims."""
    from hypothesis import find

    from tinygrad_bn.testing import strategies
    for rank in range(0, 5):
        found = find(strategies.broadcastable_shapes(), lambda shapes, r=rank: any(len(s) == r for s in shapes))
        assert any(len(s) == rank for s in found)
        assert len(found) == 2  # a pair by default: a binary op's operands


def test_erfinv_of_the_initializers_inverts_erf_in_every_range_of_its_approximation():
    """trunc_normal_ maps draws through erfinv (Giles' three ranges: w = -log(1 - x^2)
    below 6.25, below 16, and beyond, out to 1 - |x| of 1e-15); erf of the result
    gives x back, the complement 1 - |x| to a relative 1e-11 where x is near +-1."""
    from tinygrad_bn.backends import get_backend
    from tinygrad_bn.nn.init import _erfinv
    interior = np.linspace(-0.999, 0.999, 201)
    edges = np.array([1 - 10.0 ** -k for k in range(1, 16)])
    x = np.concatenate([interior, edges, -edges])
    y = np.asarray(_erfinv(get_backend("cpu"), x))
    w = -np.log((1 - x) * (1 + x))
    assert (w < 6.25).any() and ((w >= 6.25) & (w < 16)).any() and (w >= 16).any()  # every range is reached
    for xi, yi in zip(x, y):
        if abs(xi) < 0.9:
            assert math.erf(yi) == pytest.approx(xi, rel=1e-13, abs=1e-15), xi
        else:
            assert math.erfc(abs(yi)) == pytest.approx(1 - abs(xi), rel=1e-11), xi
            assert np.sign(yi) == np.sign(xi)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_corrcoef_of_exactly_linear_rows_stays_in_minus_one_one(dtype):
    """Rows that are exact linear functions of each other have correlation +-1, which
    rounding overshoots (to 1.0000001 in float32, -1.0000000000000002 in float64) before
    the clip; PyTorch clips to [-1, 1], so no entry may leave it and the extremes are hit."""
    rng = np.random.default_rng(5)
    lows, highs = [], []
    for _ in range(40):
        x = rng.standard_normal(7).astype(dtype)
        a, b = rng.uniform(0.1, 10.0), rng.standard_normal()
        rows = np.stack([x, (-a * x + b).astype(dtype), (a * x + b).astype(dtype)])
        c = tg.tensor(rows).corrcoef().numpy()
        assert c.dtype == dtype
        lows.append(c.min())
        highs.append(c.max())
    assert min(lows) >= -1 and max(highs) <= 1
    np.testing.assert_allclose(lows, -1, atol=4 * np.finfo(dtype).eps)
    np.testing.assert_allclose(highs, 1, atol=4 * np.finfo(dtype).eps)


@pytest.mark.parametrize("beside_exists", [True, False])
def test_sync_bn_prefers_the_mpiexec_beside_python_then_the_one_on_path(monkeypatch, tmp_path, beside_exists):
    """A virtual environment's own mpiexec (mpi4py's wheel puts one beside python)
    matches its MPI library; the one on PATH is the fallback."""
    import shutil
    import sys

    from tinygrad_bn.experiments import sync_bn
    env_bin, path_bin = tmp_path / "env" / "bin", tmp_path / "path"
    env_bin.mkdir(parents=True)
    path_bin.mkdir()
    for where in ([env_bin] if beside_exists else []) + [path_bin]:
        (where / "mpiexec").write_text("#!/bin/sh\n")
        (where / "mpiexec").chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(env_bin / "python"))
    monkeypatch.setenv("PATH", str(path_bin))
    assert shutil.which("mpiexec") == str(path_bin / "mpiexec")
    exe, why = sync_bn._mpiexec()
    import importlib.util
    if importlib.util.find_spec("mpi4py") is None:  # the first check says so, whatever mpiexec there is
        assert (exe, why) == (None, "mpi4py is not installed")
    else:
        assert (exe, why) == (str((env_bin if beside_exists else path_bin) / "mpiexec"), "")

