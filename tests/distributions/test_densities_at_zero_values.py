"""Gamma, Chi2 and Dirichlet densities at a value of 0 (on the edge of their
support): the x^(c-1) term is 0 there for c > 1, infinite for c < 1 and 1 for
c = 1, so log_prob is -inf, +inf or the finite rest of the formula. Expected
values are PyTorch's."""
import math

import pytest

import tinygrad_bn as tg
from tinygrad_bn import distributions as D

pytestmark = pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")  # log(0)


@pytest.mark.parametrize("concentration, want", [(2.0, -math.inf), (0.5, math.inf), (1.0, math.log(3.0))])
def test_gamma_log_prob_at_zero_follows_the_power_of_the_value(concentration, want):
    """Gamma(c, rate 3) at 0: -inf for c = 2, +inf for c = 0.5, log(3) (the rate's log) for c = 1."""
    got = D.Gamma(tg.tensor(concentration), tg.tensor(3.0)).log_prob(tg.tensor(0.0)).item()
    assert got == pytest.approx(want, rel=1e-6) if math.isfinite(want) else got == want


def test_chi2_log_prob_at_zero_is_minus_inf_above_two_degrees_of_freedom():
    """Chi2(4) is Gamma(2, 1/2): its density vanishes at 0."""
    assert D.Chi2(tg.tensor(4.0)).log_prob(tg.tensor(0.0)).item() == -math.inf


@pytest.mark.parametrize("alpha, want", [([2.0, 1.5], -math.inf), ([1.0, 1.5], 0.4054651)])
def test_dirichlet_log_prob_with_a_zero_component(alpha, want):
    """A zero component with alpha > 1 has density 0; with alpha = 1 the term drops out
    and log_prob is lgamma(2.5) - lgamma(1.5) = log(1.5)."""
    got = D.Dirichlet(tg.tensor(alpha)).log_prob(tg.tensor([0.0, 1.0])).item()
    assert got == pytest.approx(want, rel=1e-6) if math.isfinite(want) else got == want
