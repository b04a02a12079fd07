"""PyTorch's ``torch.utils.data`` names: the same objects as ``tinygrad_bn.data``."""
from ..data import DataLoader, Dataset, Subset, TensorDataset, collate, random_split  # noqa: F401

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "random_split", "collate"]
