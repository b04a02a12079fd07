"""PyTorch's distributions expose their moments, shapes, supports and flags as
attributes (properties or class values), never as methods: ``d.has_rsample`` is
a bool and ``d.mean`` a tensor. A method there would be a bound method, which is
truthy and silently wrong in ``if d.has_rsample:``."""
import inspect
import types

import pytest

import tinygrad_bn.distributions as D

CLASSES = sorted((c for c in vars(D).values() if inspect.isclass(c) and issubclass(c, D.Distribution)),
                 key=lambda c: c.__name__)
ATTRIBUTES = ("has_rsample", "has_enumerate_support", "mean", "mode", "variance", "stddev", "support",
              "arg_constraints", "batch_shape", "event_shape", "param_shape", "probs", "logits")


def test_every_distribution_class_is_checked():
    names = {c.__name__ for c in CLASSES}
    assert {"Normal", "Bernoulli", "Categorical", "Independent", "Gamma", "Dirichlet"} <= names, names


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_moments_shapes_and_flags_are_attributes_not_methods(cls):
    for name in ATTRIBUTES:
        value = inspect.getattr_static(cls, name, None)
        assert not isinstance(value, (types.FunctionType, staticmethod, classmethod)), (cls.__name__, name)


def test_independent_keeps_its_base_distributions_flags():
    import tinygrad_bn as tg
    bern = D.Independent(D.Bernoulli(probs=tg.tensor([0.3, 0.5])), 1)
    normal = D.Independent(D.Normal(tg.zeros(2), 1.0), 1)
    assert bern.has_rsample is False and normal.has_rsample is True  # PyTorch's
    assert bern.has_enumerate_support is False and normal.has_enumerate_support is False
    assert D.Independent(D.Bernoulli(probs=tg.tensor([0.3, 0.5])), 0).has_enumerate_support is True
