"""The activations, distances, losses, pad, alpha_dropout and gumbel_softmax that ``functional`` re-exports (with one
import line there): they live in ``activation_functional`` and ``loss_functional``."""
from . import activation_functional, functional_misc, loss_functional
from .activation_functional import *
from .functional_misc import *
from .loss_functional import *

__all__ = []
__all__ += activation_functional.__all__
__all__ += loss_functional.__all__
__all__ += functional_misc.__all__
