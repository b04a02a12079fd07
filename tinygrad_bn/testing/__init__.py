"""Testing tools for our ops and for a user's own.

- ``gradcheck``: the tape's gradients against central differences in float64,
  through a random projection of the outputs (PyTorch's tolerances);
  ``gradgradcheck``: the same for the gradients of those gradients (taken with
  ``create_graph=True``); ``check_grads(fn, inputs, order=2)`` runs both.
- ``strategies`` (needs Hypothesis): shapes, arrays, tensors, broadcastable
  shapes and drawn normalization problems.
- ``load_profile``: the Hypothesis profiles ci / dev / thorough.
"""
from .gradcheck import GradcheckError, check_grads, gradcheck, gradgradcheck


def load_profile(name=None):
    from .profiles import load_profile as _load

    return _load(name)


__all__ = ["gradcheck", "gradgradcheck", "check_grads", "GradcheckError", "load_profile", "strategies"]


def __getattr__(name):
    # strategies import Hypothesis, an optional dependency: load it on first use
    if name == "strategies":
        import importlib

        return importlib.import_module(".strategies", __name__)
    raise AttributeError(name)
