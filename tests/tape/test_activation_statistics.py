"""The Tape's activation statistics are the mean and the (population) standard
deviation of each op's output over its finite values: checked on outputs far
from zero, where the root mean square is nowhere near the standard deviation,
on a constant output (std exactly 0), and with NaN and Inf left out."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.tape import Tape


def assert_moments(activation, out, nan=0, inf=0):
    values = out.detach().numpy().astype(np.float64).reshape(-1)
    finite = values[np.isfinite(values)]
    assert activation["mean"] == pytest.approx(finite.mean(), rel=1e-12, abs=1e-12)
    assert activation["std"] == pytest.approx(finite.std(), rel=1e-7, abs=1e-12)
    assert (activation["nan"], activation["inf"]) == (nan, inf)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("offset", [1e4, -5e3, 300.0, 0.0])
def test_mean_and_std_of_outputs_far_from_zero(dtype, offset):
    rng = np.random.default_rng(5)
    x = tg.tensor((rng.standard_normal((40, 25)) * 3).astype(dtype), requires_grad=True)
    with Tape() as tape:
        y = x + offset  # std 3 around the offset: its RMS is about |offset|
        z = y * 2
        w = z.relu()
    assert [r.op for r in tape.entries] == ["Add", "Mul", "ReLU"]
    for r, out in zip(tape.entries, (y, z, w)):
        assert_moments(r.activation, out)
    for a, r in zip(tape.activations(), tape.entries):
        assert (a["mean"], a["std"]) == (r.activation["mean"], r.activation["std"])


def test_a_constant_output_has_std_zero_not_nan():
    x = tg.full((50, 7), 4321.0, dtype=tg.float32, requires_grad=True)
    with Tape() as tape:
        x * 1.0
    act = tape.entries[0].activation
    assert act["mean"] == 4321.0 and act["std"] == 0.0


def test_moments_are_over_the_finite_values():
    values = np.array([1e4 + 1, 1e4 - 1, np.nan, 1e4 + 3, np.inf, 1e4 - 3, -np.inf])
    x = tg.tensor(values, requires_grad=True)
    with Tape() as tape:
        y = x + 0.0
    act = tape.entries[0].activation
    assert_moments(act, y, nan=1, inf=2)
    assert act["mean"] == 1e4 and act["std"] == pytest.approx(np.sqrt(5), rel=1e-9)
