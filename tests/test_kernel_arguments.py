"""The CPU kernels index without bounds checks, so each entry point checks its
arguments: a wrong size is an error naming the argument, never a crash."""
import numpy as np
import pytest

from kernels.cpu import batchnorm, groupnorm, layernorm

X = np.random.default_rng(0).standard_normal((8, 6)).astype(np.float32)
C = X.shape[1]
ONES, SHORT = np.ones(C), np.ones(C - 1)


def bn_state():
    _, mean, var, invstd = batchnorm.forward_train(X, ONES, ONES, 1e-5)
    return mean, var, invstd


CASES = [
    ("bn forward weight", lambda: batchnorm.forward_train(X, SHORT, ONES, 1e-5), ValueError, "weight has 5 values, expected 6"),
    ("bn forward bias", lambda: batchnorm.forward_train(X, ONES, SHORT, 1e-5), ValueError, "bias has 5 values"),
    ("bn forward int", lambda: batchnorm.forward_train(X.astype(np.int32), None, None, 1e-5), TypeError, "dtype int32"),
    ("bn forward 1-d", lambda: batchnorm.forward_train(X[0], None, None, 1e-5), ValueError, "at least 2 dims"),
    ("bn forward list", lambda: batchnorm.forward_train(X.tolist(), None, None, 1e-5), TypeError, "NumPy array"),
    ("bn eval running_mean", lambda: batchnorm.forward_eval(X, ONES, ONES, SHORT, ONES, 1e-5), ValueError, "running_mean has 5"),
    ("bn eval running_var", lambda: batchnorm.forward_eval(X, ONES, ONES, ONES, SHORT, 1e-5), ValueError, "running_var has 5"),
    ("bn backward dy", lambda: batchnorm.backward(X, X[:4], *bn_state()[::2], ONES), ValueError, "dy has shape \\(4, 6\\)"),
    ("bn backward mean", lambda: batchnorm.backward(X, X, SHORT, ONES, ONES), ValueError, "mean has 5"),
    ("bn backward weight", lambda: batchnorm.backward(X, X, ONES, ONES, SHORT), ValueError, "weight has 5"),
    ("ln forward weight", lambda: layernorm.forward(X, SHORT, None, 1e-5, 1), ValueError, "weight has 5"),
    ("ln forward ndim", lambda: layernorm.forward(X, None, None, 1e-5, 3), ValueError, "normalized_ndim is 3"),
    ("ln backward mean", lambda: layernorm.backward(X, X, np.ones(7), np.ones(8), None, 1), ValueError, "mean has 7 values, expected 8"),
    ("ln backward dy", lambda: layernorm.backward(X, X.T, np.ones(8), np.ones(8), None, 1), ValueError, "dy has shape"),
    ("gn groups", lambda: groupnorm.forward(X, 4, None, None, 1e-5), ValueError, "dividing the channel count \\(6\\)"),
    ("gn weight", lambda: groupnorm.forward(X, 3, SHORT, None, 1e-5), ValueError, "weight has 5"),
    ("gn backward invstd", lambda: groupnorm.backward(X, X, 3, np.ones(24), np.ones(23), None), ValueError, "invstd has 23 values, expected 24"),
]


@pytest.mark.parametrize("name, call, error, message", CASES, ids=[c[0] for c in CASES])
def test_bad_kernel_arguments_are_errors_not_crashes(name, call, error, message):
    with pytest.raises(error, match=message):
        call()
