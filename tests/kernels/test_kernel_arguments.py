"""The kernels index without bounds checks, so every entry point of both kernel
packages checks its arguments first, with the same checks (kernels/checks.py):
a wrong size is an error naming the argument, never a read or write out of
bounds. ``CASES`` run here against kernels.cpu and against the checks alone on
arrays that have a shape but no values; tests/kernels/test_cuda_kernels.py runs them against
kernels.cuda in the simulator."""
from types import SimpleNamespace

import numpy as np
import pytest

import kernels.cpu
from kernels import checks
from kernels.protocol import NAMES

X = np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32)
C = X.shape[1]
ONES, SHORT, LONG = np.ones(C), np.ones(C - 1), np.ones(C + 1)
ROWS = np.ones(8)  # one statistic per row of X (layer norm)

# (name, call, error, message): call(k, d) calls an entry point of the kernel
# package k with its arrays put on k's device by d. "(oob)": kernels/cuda read or
# wrote out of bounds there before it checked its arguments; "(silent)": it
# returned numbers computed from the wrong data.
CASES = [
    ("bn forward weight (oob)", lambda k, d: k.batch_norm_train(d(X), d(SHORT), d(ONES), 1e-5),
     ValueError, "weight has 5 values, expected 6"),
    ("bn forward weight too long (silent)", lambda k, d: k.batch_norm_train(d(X), d(LONG), None, 1e-5),
     ValueError, "weight has 7 values, expected 6"),
    ("bn forward bias (oob)", lambda k, d: k.batch_norm_train(d(X), d(ONES), d(SHORT), 1e-5),
     ValueError, "bias has 5 values"),
    ("bn forward bias too long (silent)", lambda k, d: k.batch_norm_train(d(X), d(ONES), d(LONG), 1e-5),
     ValueError, "bias has 7 values, expected 6"),
    ("ln forward bias too long (silent)", lambda k, d: k.layer_norm(d(X), None, d(LONG), 1e-5, 1),
     ValueError, "bias has 7 values, expected 6"),
    ("bn forward int", lambda k, d: k.batch_norm_train(d(X.astype(np.int32)), None, None, 1e-5),
     TypeError, "dtype int32"),
    ("bn forward float16", lambda k, d: k.batch_norm_train(d(X.astype(np.float16)), None, None, 1e-5),
     TypeError, "dtype float16"),
    ("bn forward 1-d", lambda k, d: k.batch_norm_train(d(X[0]), None, None, 1e-5),
     ValueError, "at least 2 dims"),
    ("bn forward empty batch", lambda k, d: k.batch_norm_train(d(X[:0]), None, None, 1e-5),
     ValueError, "shape \\(0, 6\\); expected at least 2 dims, none of them 0"),
    ("bn forward list", lambda k, d: k.batch_norm_train(X.tolist(), None, None, 1e-5),
     TypeError, "x must be a .*NumPy array, got list"),
    ("bn eval running_mean (silent)", lambda k, d: k.batch_norm_eval(d(X), d(ONES), d(ONES), d(SHORT), d(ONES), 1e-5),
     ValueError, "running_mean has 5"),
    ("bn eval running_var (oob)", lambda k, d: k.batch_norm_eval(d(X), d(ONES), d(ONES), d(ONES), d(SHORT), 1e-5),
     ValueError, "running_var has 5"),
    ("bn backward dy (oob)", lambda k, d: k.batch_norm_backward(d(X), d(X[:4]), d(ONES), d(ONES), d(ONES)),
     ValueError, "dy has shape \\(4, 6\\)"),
    ("bn backward mean (oob)", lambda k, d: k.batch_norm_backward(d(X), d(X), d(SHORT), d(ONES), d(ONES)),
     ValueError, "mean has 5"),
    ("bn backward invstd (oob)", lambda k, d: k.batch_norm_backward(d(X), d(X), d(ONES), d(SHORT), None, False),
     ValueError, "invstd has 5"),
    ("bn backward weight (oob)", lambda k, d: k.batch_norm_backward(d(X), d(X), d(ONES), d(ONES), d(SHORT)),
     ValueError, "weight has 5"),
    ("ln forward weight (oob)", lambda k, d: k.layer_norm(d(X), d(SHORT), None, 1e-5, 1),
     ValueError, "weight has 5"),
    ("ln forward bias (oob)", lambda k, d: k.layer_norm(d(X), None, d(SHORT), 1e-5, 1),
     ValueError, "bias has 5"),
    ("ln forward ndim", lambda k, d: k.layer_norm(d(X), None, None, 1e-5, 3),
     ValueError, "normalized_ndim is 3"),
    ("ln forward ndim 0", lambda k, d: k.layer_norm(d(X), None, None, 1e-5, 0),
     ValueError, "normalized_ndim is 0; expected 1 to x.ndim \\(2\\)"),
    ("ln forward ndim float", lambda k, d: k.layer_norm(d(X), None, None, 1e-5, 1.0),
     ValueError, "normalized_ndim is 1.0"),
    ("ln forward list", lambda k, d: k.layer_norm(X.tolist(), None, None, 1e-5, 1),
     TypeError, "x must be a .*NumPy array, got list"),
    ("ln backward mean (oob)", lambda k, d: k.layer_norm_backward(d(X), d(X), d(np.ones(7)), d(ROWS), None, 1),
     ValueError, "mean has 7 values, expected 8"),
    ("ln backward invstd (oob)", lambda k, d: k.layer_norm_backward(d(X), d(X), d(ROWS), d(np.ones(7)), None, 1),
     ValueError, "invstd has 7 values, expected 8"),
    ("ln backward dy", lambda k, d: k.layer_norm_backward(d(X), d(X.T), d(ROWS), d(ROWS), None, 1),
     ValueError, "dy has shape"),
    ("ln backward weight (oob)", lambda k, d: k.layer_norm_backward(d(X), d(X), d(ROWS), d(ROWS), d(SHORT), 1),
     ValueError, "weight has 5"),
    ("rms forward weight (oob)", lambda k, d: k.rms_norm(d(X), d(SHORT), 1e-5, 1),
     ValueError, "rmsnorm.forward: weight has 5 values, expected 6"),
    ("rms forward weight too long (silent)", lambda k, d: k.rms_norm(d(X), d(LONG), 1e-5, 1),
     ValueError, "weight has 7 values, expected 6"),
    ("rms forward ndim", lambda k, d: k.rms_norm(d(X), None, 1e-5, 3),
     ValueError, "normalized_ndim is 3; expected 1 to x.ndim \\(2\\)"),
    ("rms forward int", lambda k, d: k.rms_norm(d(X.astype(np.int64)), None, 1e-5, 1),
     TypeError, "dtype int64"),
    ("rms forward empty", lambda k, d: k.rms_norm(d(X[:, :0]), None, 1e-5, 1),
     ValueError, "none of them 0"),
    ("rms forward list", lambda k, d: k.rms_norm(X.tolist(), None, 1e-5, 1),
     TypeError, "x must be a .*NumPy array, got list"),
    ("rms backward rstd (oob)", lambda k, d: k.rms_norm_backward(d(X), d(X), d(np.ones(7)), None, 1),
     ValueError, "rmsnorm.backward: rstd has 7 values, expected 8"),
    ("rms backward dy (oob)", lambda k, d: k.rms_norm_backward(d(X), d(X[:4]), d(ROWS), None, 1),
     ValueError, "dy has shape \\(4, 6\\)"),
    ("rms backward weight (oob)", lambda k, d: k.rms_norm_backward(d(X), d(X), d(ROWS), d(SHORT), 1),
     ValueError, "weight has 5"),
    ("rms backward ndim 0", lambda k, d: k.rms_norm_backward(d(X), d(X), d(ROWS), None, 0),
     ValueError, "normalized_ndim is 0"),
    ("gn groups", lambda k, d: k.group_norm(d(X), 4, None, None, 1e-5),
     ValueError, "dividing the channel count \\(6\\)"),
    ("gn groups 0", lambda k, d: k.group_norm(d(X), 0, None, None, 1e-5),
     ValueError, "num_groups is 0"),
    ("gn weight (oob)", lambda k, d: k.group_norm(d(X), 3, d(SHORT), None, 1e-5),
     ValueError, "weight has 5"),
    ("gn bias (oob)", lambda k, d: k.group_norm(d(X), 3, None, d(SHORT), 1e-5),
     ValueError, "bias has 5"),
    ("gn 1-d", lambda k, d: k.group_norm(d(X[0]), 1, None, None, 1e-5),
     ValueError, "at least 2 dims"),
    ("gn backward groups", lambda k, d: k.group_norm_backward(d(X), d(X), 5, d(np.ones(40)), d(np.ones(40)), None),
     ValueError, "num_groups is 5"),
    ("gn backward dy (oob)", lambda k, d: k.group_norm_backward(d(X), d(X[:2]), 3, d(np.ones(24)), d(np.ones(24)), None),
     ValueError, "dy has shape \\(2, 6\\)"),
    ("gn backward mean (oob)", lambda k, d: k.group_norm_backward(d(X), d(X), 3, d(np.ones(23)), d(np.ones(24)), None),
     ValueError, "mean has 23 values, expected 24"),
    ("gn backward invstd (oob)", lambda k, d: k.group_norm_backward(d(X), d(X), 3, d(np.ones(24)), d(np.ones(23)), None),
     ValueError, "invstd has 23 values, expected 24"),
    ("gn backward weight (oob)", lambda k, d: k.group_norm_backward(d(X), d(X), 3, d(np.ones(24)), d(np.ones(24)), d(SHORT)),
     ValueError, "weight has 5"),
    ("brn forward weight (oob)", lambda k, d: k.batch_renorm_train(d(X), d(SHORT), None, d(ONES), d(ONES), 1e-5, 2.0, 1.0),
     ValueError, "batchrenorm.forward_train: weight has 5 values, expected 6"),
    ("brn forward running_var (oob)",
     lambda k, d: k.batch_renorm_train(d(X), None, None, d(ONES), d(SHORT), 1e-5, 2.0, 1.0),
     ValueError, "running_var has 5 values, expected 6"),
    ("brn forward r_max", lambda k, d: k.batch_renorm_train(d(X), None, None, d(ONES), d(ONES), 1e-5, 0.5, 1.0),
     ValueError, "r_max is 0.5; expected a finite number >= 1"),
    ("brn forward d_max", lambda k, d: k.batch_renorm_train(d(X), None, None, d(ONES), d(ONES), 1e-5, 1.0, -1.0),
     ValueError, "d_max is -1.0; expected a finite number >= 0"),
    ("brn forward 1-d", lambda k, d: k.batch_renorm_train(d(X[0]), None, None, d(ONES), d(ONES), 1e-5, 1.0, 0.0),
     ValueError, "at least 2 dims"),
    ("brn backward r (oob)", lambda k, d: k.batch_renorm_backward(d(X), d(X), d(ONES), d(ONES), d(SHORT), d(ONES), None),
     ValueError, "batchrenorm.backward: r has 5 values, expected 6"),
    ("brn backward d (oob)", lambda k, d: k.batch_renorm_backward(d(X), d(X), d(ONES), d(ONES), d(ONES), d(LONG), None),
     ValueError, "d has 7 values, expected 6"),
    ("brn backward dy (oob)", lambda k, d: k.batch_renorm_backward(d(X), d(X[:4]), d(ONES), d(ONES), d(ONES), d(ONES),
                                                                   None),
     ValueError, "dy has shape \\(4, 6\\)"),
    ("summarize list", lambda k, d: k.summarize([1.0, 2.0]),
     TypeError, "summarize: x must be a .*NumPy array, got list"),
]
CASE_IDS = [c[0] for c in CASES]


def host(a):
    return a


@pytest.mark.parametrize("name, call, error, message", CASES, ids=CASE_IDS)
def test_bad_kernel_arguments_are_errors_not_crashes(name, call, error, message):
    with pytest.raises(error, match=message):
        call(kernels.cpu, host)


def test_the_cases_reach_every_entry_point_that_takes_arguments():
    called = set()

    class Recorder:
        def __getattr__(self, name):
            called.add(name)
            return lambda *args: None

    for _, call, _, _ in CASES:
        call(Recorder(), host)
    assert called == set(NAMES) - {"KERNEL_MODULES", "empty_cache"}


# ------------------------------------------------------------ the checks alone


class ShapeOnly:
    """A device array as the checks may see it: type, dtype, shape and size,
    and no values (reading one fails). Its type's module says CuPy."""
    __module__ = "cupy._shape_only"

    def __init__(self, a):
        a = np.asarray(a)
        self.shape, self.dtype, self.ndim, self.size = a.shape, a.dtype, a.ndim, a.size

    def _read(self, *args, **kwargs):
        raise AssertionError("an argument check read an array's values")

    __array__ = __getitem__ = __iter__ = __len__ = __float__ = __index__ = get = tolist = _read


def checks_only(arrays):
    """A kernel package whose entry points run their argument checks and nothing else."""
    return SimpleNamespace(
        batch_norm_train=lambda x, w, b, eps: checks.batch_norm_train(x, w, b, arrays),
        batch_norm_eval=lambda x, w, b, rm, rv, eps: checks.batch_norm_eval(x, w, b, rm, rv, arrays),
        batch_norm_backward=lambda x, dy, m, i, w, training=True: checks.batch_norm_backward(x, dy, m, i, w, arrays),
        layer_norm=lambda x, w, b, eps, nd: checks.layer_norm(x, w, b, nd, arrays),
        layer_norm_backward=lambda x, dy, m, i, w, nd: checks.layer_norm_backward(x, dy, m, i, w, nd, arrays),
        rms_norm=lambda x, w, eps, nd: checks.rms_norm(x, w, nd, arrays),
        rms_norm_backward=lambda x, dy, r, w, nd: checks.rms_norm_backward(x, dy, r, w, nd, arrays),
        group_norm=lambda x, g, w, b, eps: checks.group_norm(x, g, w, b, arrays),
        group_norm_backward=lambda x, dy, g, m, i, w: checks.group_norm_backward(x, dy, g, m, i, w, arrays),
        batch_renorm_train=lambda x, w, b, rm, rv, eps, r_max, d_max: checks.batch_renorm_train(
            x, w, b, rm, rv, r_max, d_max, arrays),
        batch_renorm_backward=lambda x, dy, m, i, r, d, w: checks.batch_renorm_backward(x, dy, m, i, r, d, w, arrays),
        summarize=lambda x: checks.summarize(x, arrays))


@pytest.mark.parametrize("name, call, error, message", CASES, ids=CASE_IDS)
def test_the_checks_find_each_bad_argument_from_shapes_alone(name, call, error, message):
    with pytest.raises(error, match=message):
        call(checks_only(checks.DEVICE_ARRAYS), ShapeOnly)


def test_the_checks_pass_good_device_arrays_without_reading_them():
    k, d = checks_only(checks.DEVICE_ARRAYS), ShapeOnly
    x4 = d(np.ones((2, 6, 3, 3), np.float64))
    k.batch_norm_train(x4, d(ONES), d(ONES), 1e-5)
    k.batch_norm_eval(x4, None, None, d(ONES), d(ONES), 1e-5)
    k.batch_norm_backward(x4, x4, d(ONES), d(ONES), d(ONES.reshape(2, 3)), True)  # any shape of C values
    k.layer_norm(x4, d(np.ones((3, 3))), d(np.ones(9)), 1e-5, 2)
    k.layer_norm_backward(x4, x4, d(np.ones((2, 6))), d(np.ones(12)), None, 2)
    k.rms_norm(x4, d(np.ones((3, 3))), 1e-5, 2)
    k.rms_norm_backward(x4, x4, d(np.ones((2, 6))), d(np.ones(9)), 2)
    k.batch_renorm_train(x4, d(ONES), None, d(ONES), d(ONES.reshape(2, 3)), 1e-5, 3.0, 5.0)
    k.batch_renorm_backward(x4, x4, d(ONES), d(ONES), d(ONES), d(ONES), d(ONES))
    k.group_norm(x4, 3, d(ONES), d(ONES), 1e-5)
    k.group_norm_backward(x4, x4, 2, d(np.ones(4)), d(np.ones((2, 2))), d(ONES))
    k.summarize(d(np.arange(3)))  # any dtype


def test_each_package_names_the_arrays_it_takes():
    with pytest.raises(TypeError, match="x must be a NumPy array, got ShapeOnly"):
        checks_only(checks.NUMPY_ARRAYS).layer_norm(ShapeOnly(X), None, None, 1e-5, 1)
    with pytest.raises(TypeError, match="x must be a NumPy array, got list"):
        kernels.cpu.layer_norm(X.tolist(), None, None, 1e-5, 1)
