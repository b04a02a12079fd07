"""Testing tools for our ops and for a user's own.

- ``gradcheck``: the tape's gradients against central differences in float64,
  through a random projection of the outputs (PyTorch's tolerances).
- ``strategies`` (needs Hypothesis): shapes, arrays, tensors, broadcastable
  shapes and drawn normalization problems.
- ``load_profile``: the Hypothesis profiles ci / dev / thorough.

There is no ``gradgradcheck``: backward is not differentiable a second time.
"""
from .gradcheck import GradcheckError, gradcheck


def load_profile(name=None):
    from .profiles import load_profile as _load

    return _load(name)


__all__ = ["gradcheck", "GradcheckError", "load_profile", "strategies"]


def __getattr__(name):
    # strategies import Hypothesis, an optional dependency: load it on first use
    if name == "strategies":
        import importlib

        return importlib.import_module(".strategies", __name__)
    raise AttributeError(name)
