"""Datasets and a batching DataLoader."""
import math

import numpy as np

from ..creation import from_numpy
from ..tensor import Tensor


class TensorDataset:
    """Rows of equally long arrays or tensors; item i is a tuple of row i of each."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: expected at least one array")
        self.arrays = [a.detach().cpu().numpy() if isinstance(a, Tensor) else np.asarray(a) for a in arrays]
        n = len(self.arrays[0])
        for i, a in enumerate(self.arrays):
            if len(a) != n:
                raise ValueError(f"TensorDataset: array {i} has {len(a)} rows, array 0 has {n}")

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, idx):
        return tuple(a[idx] for a in self.arrays)


class DataLoader:
    """Batches of a dataset as CPU tensors (move them with ``.to(device)``).

    ``shuffle`` reorders every epoch from a generator seeded with ``seed`` (so
    two loaders with the same seed give the same batches); ``drop_last`` drops a
    final short batch. A dataset with array-style indexing (``TensorDataset``) is
    batched by fancy indexing; any other dataset by stacking its items.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, seed=None, drop_last=False):
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self._rng = np.random.default_rng(seed)

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        n = len(self.dataset)
        order = self._rng.permutation(n) if self.shuffle else np.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            if self.drop_last and len(idx) < self.batch_size:
                return
            if isinstance(self.dataset, TensorDataset):
                cols = [a[idx] for a in self.dataset.arrays]
            else:
                items = [self.dataset[int(i)] for i in idx]
                cols = [np.stack([np.asarray(it[k]) for it in items]) for k in range(len(items[0]))]
            # CPU tensors, as PyTorch's DataLoader gives; move them with .to(device)
            yield tuple(from_numpy(np.ascontiguousarray(c)) for c in cols)
