"""PyTorch's ``torch.utils.data`` names: the same objects as ``tinygrad_bn.data``
(and ``tinygrad_bn.distributed``'s DistributedSampler)."""
from ..data import DataLoader, Dataset, Subset, TensorDataset, collate, random_split  # noqa: F401
from ..distributed import DistributedSampler  # noqa: F401

__all__ = ["DataLoader", "Dataset", "DistributedSampler", "Subset", "TensorDataset", "random_split", "collate"]
