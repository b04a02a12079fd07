"""The class losses and MSELoss as modules, with PyTorch's constructor signatures:
each stores its settings (class weights as a buffer) and calls its function."""
from ..arguments import number_arg
from . import functional as F
from .losses import _Loss, _WeightedLoss


class CrossEntropyLoss(_WeightedLoss):
    """Cross entropy between logits (C,), (N, C) or (N, C, d1, ...) and class indices or
    class probabilities, with ``weight``, ``ignore_index``, ``label_smoothing`` and
    ``reduction`` as ``torch.nn.CrossEntropyLoss`` (see ``class_losses``)."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = number_arg("CrossEntropyLoss", "ignore_index", ignore_index, integer=True)
        self.label_smoothing = number_arg("CrossEntropyLoss", "label_smoothing", label_smoothing, 0.0, 1.0)

    def forward(self, input, target):
        return F.cross_entropy(input, target, weight=self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log likelihood of log-probabilities against class indices, as ``torch.nn.NLLLoss``."""

    def __init__(self, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
        super().__init__(weight, size_average, reduce, reduction)
        self.ignore_index = number_arg("NLLLoss", "ignore_index", ignore_index, integer=True)

    def forward(self, input, target):
        return F.nll_loss(input, target, weight=self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error between same-shaped tensors."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)
