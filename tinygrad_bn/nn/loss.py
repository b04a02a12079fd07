"""Loss modules."""
from . import functional as F
from .module import Module
from ..arguments import number_arg


class CrossEntropyLoss(Module):
    """Cross entropy between logits (N, C) and class indices (N,).

    Fuses log-softmax and NLL in one stable op. ``reduction``: 'mean' (over
    targets that are not ``ignore_index``), 'sum' or 'none'. Probability targets,
    class weights and label smoothing are not supported.
    """

    def __init__(self, reduction="mean", ignore_index=-100):
        super().__init__()
        F.check_reduction("CrossEntropyLoss", reduction)
        number_arg("CrossEntropyLoss", "ignore_index", ignore_index, integer=True)
        self.reduction, self.ignore_index = reduction, ignore_index

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.reduction, self.ignore_index)


class NLLLoss(Module):
    """Negative log likelihood of log-probabilities (N, C) and class indices (N,)."""

    def __init__(self, reduction="mean", ignore_index=-100):
        super().__init__()
        F.check_reduction("NLLLoss", reduction)
        number_arg("NLLLoss", "ignore_index", ignore_index, integer=True)
        self.reduction, self.ignore_index = reduction, ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.reduction, self.ignore_index)


class MSELoss(Module):
    """Mean squared error between same-shaped tensors."""

    def __init__(self, reduction="mean"):
        super().__init__()
        F.check_reduction("MSELoss", reduction)
        self.reduction = reduction

    def forward(self, input, target):
        return F.mse_loss(input, target, self.reduction)
