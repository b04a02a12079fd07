"""``tinygrad_bn.utils.data`` is ``tinygrad_bn.data``, so PyTorch's
``from torch.utils.data import DataLoader, Dataset`` ports by its import line."""
from .. import data

__all__ = ["data"]
