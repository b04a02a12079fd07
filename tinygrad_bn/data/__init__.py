"""Data: the bundled MNIST digits, MNIST/Fashion-MNIST IDX files, and batching."""
from .loader import DataLoader, Dataset, Subset, TensorDataset, collate, random_split
from .mnist import download, load_mnist, load_mnist_5k, normalize_images, read_idx
from ..distributed import DistributedSampler  # torch.utils.data has it too

__all__ = ["DataLoader", "Dataset", "DistributedSampler", "Subset", "TensorDataset", "random_split", "collate", "load_mnist_5k", "load_mnist", "read_idx",
           "download", "normalize_images"]
