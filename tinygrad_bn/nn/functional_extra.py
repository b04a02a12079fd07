"""The activations, distances and losses that ``functional`` re-exports (with one
import line there): they live in ``activation_functional`` and ``loss_functional``."""
from . import activation_functional, loss_functional
from .activation_functional import *
from .loss_functional import *

__all__ = []
__all__ += activation_functional.__all__
__all__ += loss_functional.__all__
