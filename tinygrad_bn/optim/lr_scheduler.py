"""Learning-rate schedules, as ``torch.optim.lr_scheduler``: each ``step()`` sets
every parameter group's ``lr``.

The schedules are chainable, as PyTorch's: ``get_lr`` computes the next rate from
the group's current ``lr`` (so two schedules on one optimizer compose, and a rate
set by hand carries on), and ``last_epoch`` counts the steps taken, 0 after the
constructor's initial step. ``step(epoch)`` (deprecated in PyTorch, with its
warning) jumps to ``epoch`` and uses the schedule's closed form where it has one.

The schedulers live by kind: the base (``lr_scheduler_base``), the chainable
schedules (``lr_scheduler_chainable``), those made of schedulers
(``lr_scheduler_sequence``), ``ReduceLROnPlateau`` (``lr_scheduler_plateau``) and the
cyclic ones (``lr_scheduler_cyclic``); this module names them all, as PyTorch's."""
from .lr_scheduler_base import EPOCH_DEPRECATION_WARNING, LRScheduler  # noqa: F401  (PyTorch's module has it too)
from .lr_scheduler_chainable import (ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR,
                                     MultiplicativeLR, MultiStepLR, PolynomialLR, StepLR)
from .lr_scheduler_cyclic import CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR
from .lr_scheduler_plateau import ReduceLROnPlateau
from .lr_scheduler_sequence import ChainedScheduler, SequentialLR

__all__ = [
    "ChainedScheduler",
    "ConstantLR",
    "CosineAnnealingLR",
    "CosineAnnealingWarmRestarts",
    "CyclicLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "MultiplicativeLR",
    "OneCycleLR",
    "PolynomialLR",
    "ReduceLROnPlateau",
    "SequentialLR",
    "StepLR",
]
