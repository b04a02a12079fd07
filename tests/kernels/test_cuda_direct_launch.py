"""The direct kernel launch (kernels/cuda/_common.py, DirectLaunch) against
Numba's own launch, on a GPU only (marker ``gpu``): the simulator launches
through Numba every time, so there is nothing to compare there.

After a kernel's first launch through Numba, later launches with the same
argument types lay the arguments out themselves and call cuda.core's launch;
a wrong layout (a missing field, a swapped size and pointer, a float passed as
the wrong width) reads the wrong memory or the wrong numbers, so every kernel
family is run both ways here, on fresh inputs, and must give the same bits.
"""
import numpy as np
import pytest

pytestmark = pytest.mark.gpu

cp = pytest.importorskip("cupy")
from kernels.cuda import _common as kc
from kernels.cuda import batchnorm as cb
from kernels.cuda import batchrenorm as cr
from kernels.cuda import groupnorm as cg
from kernels.cuda import layernorm as cl
from kernels.cuda import rmsnorm as crms
from kernels.cuda import stats as cs

EPS = 1e-5


def _calls(rng, dtype):
    """(name, a function of fresh device inputs that returns device outputs) for each kernel family."""
    def arr(*shape):
        return cp.asarray(rng.standard_normal(shape).astype(dtype))

    x, dy = arr(37, 10), arr(37, 10)
    x3, dy3 = arr(5, 6, 7), arr(5, 6, 7)
    xbig, dybig, wbig = arr(5000, 40), arr(5000, 40), arr(40)  # several row groups: the multi-kernel path
    w, b = arr(10), arr(10)
    w6, b6 = arr(6), arr(6)
    rm, rv = arr(10), cp.abs(arr(10)) + 0.5
    _, mean, _, invstd = cb.forward_train(x, w, b, EPS)
    _, bmean, _, binvstd = cb.forward_train(xbig, wbig, wbig, EPS)
    _, lmean, linvstd = cl.forward(x, w, b, EPS, 1)
    _, gmean, ginvstd = cg.forward(x3, 3, w6, b6, EPS)
    _, rinv = crms.forward(x, w, EPS, 1)
    return [
        ("batch norm forward (N, C)", lambda: cb.forward_train(x, w, b, EPS)),
        ("batch norm forward (N, C, L)", lambda: cb.forward_train(x3, w6, b6, EPS)),
        ("batch norm forward, row groups", lambda: cb.forward_train(xbig, wbig, wbig, EPS)),
        ("batch norm backward, row groups", lambda: cb.backward(xbig, dybig, bmean, binvstd, wbig, True)),
        ("batch norm eval", lambda: cb.forward_eval(x, w, b, rm, rv, EPS)),
        ("batch norm backward", lambda: cb.backward(x, dy, mean, invstd, w, True)),
        ("layer norm forward", lambda: cl.forward(x, w, b, EPS, 1)),
        ("layer norm backward", lambda: cl.backward(x, dy, lmean, linvstd, w, 1)),
        ("group norm forward", lambda: cg.forward(x3, 3, w6, b6, EPS)),
        ("group norm backward", lambda: cg.backward(x3, dy3, 3, gmean, ginvstd, w6)),
        ("rms norm forward", lambda: crms.forward(x, w, EPS, 1)),
        ("rms norm backward", lambda: crms.backward(x, dy, rinv, w, 1)),
        ("batch renorm forward", lambda: cr.forward_train(x, w, b, rm, rv, EPS, 3.0, 5.0)),
        ("stats summary", lambda: cs.summarize(x)),
    ]


def _host(out):
    if isinstance(out, tuple):
        return [_host(o) for o in out]
    return cp.asnumpy(out) if isinstance(out, cp.ndarray) else out


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_direct_launch_gives_numbas_bits_for_every_kernel_family(monkeypatch, dtype):
    rng = np.random.default_rng(7)
    for name, call in _calls(rng, dtype):
        monkeypatch.setattr(kc, "DIRECT_LAUNCH", False)
        expected = _host(call())
        monkeypatch.setattr(kc, "DIRECT_LAUNCH", True)
        call()  # the first launch with these types may go through Numba
        before = kc.launch_counts["direct"]
        got = _host(call())
        assert kc.launch_counts["direct"] > before, f"{name}: no launch went the direct way"
        for e, g in zip(expected if isinstance(expected, list) else [expected],
                        got if isinstance(got, list) else [got]):
            np.testing.assert_array_equal(g, e, err_msg=name)


def test_an_argument_the_layout_cannot_pass_goes_through_numba():
    """A 1-D view with a stride is not what the direct layout describes: Numba launches it."""
    x = cp.arange(20, dtype=cp.float64)
    out = cp.zeros(10)
    kc.launch(kc.sum_partial_rows, 1, 32, x[::2], 1, 10, out)  # through Numba, then registered
    numba_before = kc.launch_counts["numba"]
    kc.launch(kc.sum_partial_rows, 1, 32, x[::2], 1, 10, out)
    assert kc.launch_counts["numba"] == numba_before + 1
    np.testing.assert_array_equal(cp.asnumpy(out), np.arange(0, 20, 2))
