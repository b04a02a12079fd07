"""gradcheck's and gradgradcheck's fast mode compares ``n_directions`` random directional
derivatives, 4 unless told (each one more call of the function): the default does the
work of 4, and each count its own."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.testing import gradcheck, gradgradcheck


def _calls(check, **kw):
    calls = []

    def f(t):
        calls.append(1)
        return (t * t * t).tanh()

    x = tg.tensor(np.random.default_rng(0).standard_normal(5), dtype=tg.float64, requires_grad=True)
    assert check(f, (x,), fast_mode=True, **kw)
    return len(calls)


@pytest.mark.parametrize("check", [gradcheck, gradgradcheck])
def test_the_default_is_four_directions(check):
    counts = {n: _calls(check, n_directions=n) for n in (3, 4, 5)}
    assert counts[3] < counts[4] < counts[5]
    assert _calls(check) == counts[4]


def test_gradgradchecks_random_grad_outputs_are_drawn_by_the_seed(monkeypatch):
    """Without grad_outputs, gradgradcheck draws them from ``seed``: each seed its own
    draw, the same seed the same one."""
    import sys
    module = sys.modules["tinygrad_bn.testing.gradcheck"]
    drawn = []
    real = module.gradcheck

    def capture(fn, inputs, **kw):
        drawn.append(inputs[1].detach().numpy().copy())
        return real(fn, inputs, **kw)

    monkeypatch.setattr(module, "gradcheck", capture)
    x = tg.tensor(np.random.default_rng(0).standard_normal(6), dtype=tg.float64, requires_grad=True)
    for seed in (0, 1, 2, 3, 2):
        assert gradgradcheck(lambda t: (t * t).sin(), (x,), seed=seed)
    assert all(not np.array_equal(drawn[i], drawn[j]) for i in range(4) for j in range(i))
    np.testing.assert_array_equal(drawn[4], drawn[2])
