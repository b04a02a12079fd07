"""``kl_divergence(p, q)`` and ``register_kl(type_p, type_q)``, as
``torch.distributions.kl``: KL(p || q) = E_p[log p(X) - log q(X)], one value per
distribution of the (broadcast) batch, from the implementation registered for
the most specific pair of types (by subclass, as PyTorch's lookup). The closed
forms here are tensor expressions, so they are differentiable with respect to
both distributions' parameters."""
import warnings
from functools import total_ordering

from ..ops.elementwise import where
from .bernoulli import Bernoulli
from .beta import Beta
from .binomial import Binomial
from .categorical import Categorical
from .cauchy import Cauchy
from .dirichlet import Dirichlet
from .distribution import Distribution
from .exponential import Exponential
from .gamma import Gamma
from .geometric import Geometric
from .gumbel import Gumbel
from .half_normal import HalfNormal
from .independent import Independent
from .laplace import Laplace
from .log_normal import LogNormal
from .normal import Normal
from .one_hot_categorical import OneHotCategorical
from .poisson import Poisson
from .uniform import Uniform
from .utils import euler_constant, softplus, sum_rightmost

_KL_REGISTRY = {}  # (type_p, type_q) -> function: the pairs registered
_KL_MEMOIZE = {}  # (type(p), type(q)) -> function or NotImplemented: lookups made

_INF = float("inf")

__all__ = ["kl_divergence", "register_kl"]


def register_kl(type_p, type_q):
    """Decorator registering ``fn(p, q)`` as KL(p || q) for p an instance of
    ``type_p`` and q of ``type_q`` (Distribution subclasses)::

        @register_kl(Normal, Normal)
        def kl_normal_normal(p, q):
            ...

    ``kl_divergence`` uses the most specific registered pair (by subclass); when
    two pairs tie (one more specific in p, the other in q) it warns
    (RuntimeWarning) and takes the one more specific in p; register the exact
    pair to settle it, as in PyTorch.
    """
    for name, t in (("type_p", type_p), ("type_q", type_q)):
        if not (isinstance(t, type) and issubclass(t, Distribution)):
            raise TypeError(f"register_kl: {name} must be a Distribution subclass (e.g. Normal), got "
                            f"{t!r} ({type(t).__name__})")

    def decorator(fn):
        if not callable(fn):
            raise TypeError(f"register_kl({type_p.__name__}, {type_q.__name__}): expected a function fn(p, q), "
                            f"got {type(fn).__name__}")
        _KL_REGISTRY[type_p, type_q] = fn
        _KL_MEMOIZE.clear()  # the best match may have changed
        return fn

    return decorator


@total_ordering
class _Match:
    """A registered pair, ordered lexicographically by subclass (smaller: more specific)."""

    __slots__ = ("types",)

    def __init__(self, *types):
        self.types = types

    def __eq__(self, other):
        return self.types == other.types

    def __hash__(self):
        return hash(self.types)

    def __le__(self, other):
        for x, y in zip(self.types, other.types):
            if not issubclass(x, y):
                return False
            if x is not y:
                break
        return True


def _dispatch_kl(type_p, type_q):
    matches = [(sp, sq) for sp, sq in _KL_REGISTRY if issubclass(type_p, sp) and issubclass(type_q, sq)]
    if not matches:
        return NotImplemented
    left_p, left_q = min(_Match(*m) for m in matches).types
    right_q, right_p = min(_Match(*reversed(m)) for m in matches).types
    left, right = _KL_REGISTRY[left_p, left_q], _KL_REGISTRY[right_p, right_q]
    if left is not right:
        warnings.warn(f"Ambiguous kl_divergence({type_p.__name__}, {type_q.__name__}): registered pairs "
                      f"({left_p.__name__}, {left_q.__name__}) and ({right_p.__name__}, {right_q.__name__}) "
                      f"match equally; please register_kl({left_p.__name__}, {right_q.__name__})",
                      RuntimeWarning, stacklevel=3)
    return left


def kl_divergence(p, q):
    """KL(p || q), of the batch shape of p and q broadcast together. Raises
    NotImplementedError when no implementation is registered for their types."""
    for name, d in (("p", p), ("q", q)):
        if not isinstance(d, Distribution):
            raise TypeError(f"kl_divergence: {name} must be a Distribution, got {type(d).__name__}")
    key = (type(p), type(q))
    fn = _KL_MEMOIZE.get(key)
    if fn is None:
        fn = _KL_MEMOIZE[key] = _dispatch_kl(*key)
    if fn is NotImplemented:
        known = sorted({sq.__name__ for sp, sq in _KL_REGISTRY if isinstance(p, sp)})
        expected = (f"for p a {type(p).__name__}, q must be one of: {', '.join(known)}" if known else
                    f"no q is registered for p a {type(p).__name__}")
        raise NotImplementedError(f"kl_divergence: no KL(p || q) is registered for p of type {type(p).__name__} "
                                  f"and q of type {type(q).__name__}; {expected} (or register one with "
                                  f"@register_kl({type(p).__name__}, {type(q).__name__}))")
    return fn(p, q)


# ------------------------------------------------------------------ same families


@register_kl(Normal, Normal)
def _kl_normal_normal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    t1 = ((p.loc - q.loc) / q.scale) ** 2
    return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())


@register_kl(LogNormal, LogNormal)
def _kl_lognormal_lognormal(p, q):
    return _kl_normal_normal(p, q)  # KL is invariant under the map exp


@register_kl(HalfNormal, HalfNormal)
def _kl_halfnormal_halfnormal(p, q):
    var_ratio = (p.scale / q.scale) ** 2
    return 0.5 * (var_ratio - 1 - var_ratio.log())


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(p, q):
    pp, qp = p.probs.detach(), q.probs.detach()
    t1 = p.probs * (softplus(-q.logits) - softplus(-p.logits))
    t1 = where(pp == 0, 0.0, where(qp == 0, _INF, t1))
    t2 = (1 - p.probs) * (softplus(q.logits) - softplus(p.logits))
    t2 = where(pp == 1, 0.0, where(qp == 1, _INF, t2))
    return t1 + t2


@register_kl(Categorical, Categorical)
def _kl_categorical_categorical(p, q):
    t = p.probs * (p.logits - q.logits)
    t = where(p.probs.detach() == 0, 0.0, where(q.probs.detach() == 0, _INF, t))
    return t.sum(-1)


@register_kl(OneHotCategorical, OneHotCategorical)
def _kl_onehotcategorical_onehotcategorical(p, q):
    return _kl_categorical_categorical(p._categorical, q._categorical)


@register_kl(Uniform, Uniform)
def _kl_uniform_uniform(p, q):
    result = ((q.high - q.low) / (p.high - p.low)).log()
    outside = (q.low.detach() > p.low.detach()) + (q.high.detach() < p.high.detach())
    return where(outside, _INF, result)


@register_kl(Exponential, Exponential)
def _kl_exponential_exponential(p, q):
    rate_ratio = q.rate / p.rate
    return -rate_ratio.log() + rate_ratio - 1


@register_kl(Laplace, Laplace)
def _kl_laplace_laplace(p, q):
    scale_ratio = p.scale / q.scale
    loc_abs_diff = (p.loc - q.loc).abs()
    return -scale_ratio.log() + loc_abs_diff / q.scale + scale_ratio * (-loc_abs_diff / p.scale).exp() - 1


@register_kl(Cauchy, Cauchy)
def _kl_cauchy_cauchy(p, q):
    return ((p.scale + q.scale) ** 2 + (p.loc - q.loc) ** 2).log() - (4 * p.scale * q.scale).log()


@register_kl(Gumbel, Gumbel)
def _kl_gumbel_gumbel(p, q):
    ct1 = p.scale / q.scale
    ct2 = q.loc / q.scale
    ct3 = p.loc / q.scale
    t1 = -ct1.log() - ct2 + ct3
    t3 = (ct2 + (1 + ct1).lgamma() - ct3).exp()
    return t1 + ct1 * euler_constant + t3 - (1 + euler_constant)


@register_kl(Poisson, Poisson)
def _kl_poisson_poisson(p, q):
    # xlogy: a rate of 0 in p gives q.rate, not NaN
    return p.rate.xlogy(p.rate) - p.rate.xlogy(q.rate) - (p.rate - q.rate)


@register_kl(Geometric, Geometric)
def _kl_geometric_geometric(p, q):
    return -p.entropy() - (-q.probs).log1p() / p.probs - q.logits


@register_kl(Binomial, Binomial)
def _kl_binomial_binomial(p, q):
    pn, qn = p.total_count.detach(), q.total_count.detach()
    if bool((pn < qn).any().item()):
        raise NotImplementedError("kl_divergence(Binomial, Binomial): q.total_count > p.total_count is not "
                                  "implemented (as in PyTorch)")
    kl = p.total_count * (p.probs * (p.logits - q.logits) + (-p.probs).log1p() - (-q.probs).log1p())
    return where(pn > qn, _INF, kl)


@register_kl(Gamma, Gamma)
def _kl_gamma_gamma(p, q):
    t1 = q.concentration * (p.rate / q.rate).log()
    t2 = q.concentration.lgamma() - p.concentration.lgamma()
    t3 = (p.concentration - q.concentration) * p.concentration.digamma()
    t4 = (q.rate - p.rate) * (p.concentration / p.rate)
    return t1 + t2 + t3 + t4


@register_kl(Beta, Beta)
def _kl_beta_beta(p, q):
    sum_p = p.concentration1 + p.concentration0
    sum_q = q.concentration1 + q.concentration0
    t1 = q.concentration1.lgamma() + q.concentration0.lgamma() + sum_p.lgamma()
    t2 = p.concentration1.lgamma() + p.concentration0.lgamma() + sum_q.lgamma()
    t3 = (p.concentration1 - q.concentration1) * p.concentration1.digamma()
    t4 = (p.concentration0 - q.concentration0) * p.concentration0.digamma()
    t5 = (sum_q - sum_p) * sum_p.digamma()
    return t1 - t2 + t3 + t4 + t5


@register_kl(Dirichlet, Dirichlet)
def _kl_dirichlet_dirichlet(p, q):
    sum_p = p.concentration.sum(-1)
    sum_q = q.concentration.sum(-1)
    t1 = sum_p.lgamma() - sum_q.lgamma()
    t2 = (p.concentration.lgamma() - q.concentration.lgamma()).sum(-1)
    t3 = p.concentration - q.concentration
    t4 = p.concentration.digamma() - sum_p.digamma().unsqueeze(-1)
    return t1 - t2 + (t3 * t4).sum(-1)


@register_kl(Independent, Independent)
def _kl_independent_independent(p, q):
    if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
        raise NotImplementedError(f"kl_divergence(Independent, Independent): p reinterprets "
                                  f"{p.reinterpreted_batch_ndims} batch dims and q {q.reinterpreted_batch_ndims}; "
                                  "only equal counts are implemented (as in PyTorch)")
    return sum_rightmost(kl_divergence(p.base_dist, q.base_dist), p.reinterpreted_batch_ndims)


