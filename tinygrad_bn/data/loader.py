"""Datasets and a batching DataLoader."""
import math

import numpy as np

from .. import random
from ..creation import from_numpy
from ..random import default_generator
from ..tensor import Tensor


class Dataset:
    """Base class of map-style datasets, as ``torch.utils.data.Dataset``:
    subclasses define ``__getitem__(i)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} has no __getitem__; define one in the subclass")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} has no __len__; define one in the subclass")


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        _check_dataset("Subset", dataset)
        self.dataset, self.indices = dataset, [int(i) for i in indices]
        n = len(dataset)
        bad = [i for i in self.indices if not -n <= i < n]
        if bad:
            raise IndexError(f"Subset: index {bad[0]} is out of range for a dataset of {n} items; "
                             f"expected indices in [{-n}, {n})")

    def __getitem__(self, i):
        n = len(self.indices)
        if isinstance(i, (int, np.integer)) and not -n <= i < n:
            raise IndexError(f"Subset: index {i} is out of range for a subset of {n} items; expected [{-n}, {n})")
        return self.dataset[self.indices[i]]

    def __len__(self):
        return len(self.indices)


def _generator(seed, generator=None, who="DataLoader"):
    """The NumPy generator to draw an order from: ``generator``'s own (a CPU
    ``tinygrad_bn.Generator``, which the draw advances, as PyTorch's), one made from
    ``seed``, or one from a seed drawn from tinygrad_bn's CPU generator (so
    ``manual_seed`` makes the draws repeat)."""
    if generator is not None:
        if seed is not None:
            raise ValueError(f"{who}: got both seed={seed!r} and a generator; pass one of them")
        return random.stream(who, generator, "cpu")
    return np.random.default_rng(int(default_generator("cpu").integers(2**63)) if seed is None else seed)


def random_split(dataset, lengths, generator=None, *, seed=None):
    """Split ``dataset`` into non-overlapping random ``Subset``s of the given
    lengths (counts summing to its length, or fractions summing to 1, the
    remainder spread from the first as PyTorch does). The order comes from
    ``generator`` (a CPU ``tinygrad_bn.Generator``), from ``seed`` (ours), or else
    from tinygrad_bn's CPU generator (``manual_seed`` repeats it)."""
    _check_dataset("random_split", dataset)
    n = len(dataset)
    lengths = list(lengths)
    if lengths and all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1) < 1e-9:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if any(not isinstance(x, (int, np.integer)) or x < 0 for x in lengths) or sum(lengths) != n:
        raise ValueError(f"random_split: lengths {lengths} (sum {sum(lengths)}) must be non-negative counts "
                         f"summing to the dataset's length ({n}), or fractions summing to 1")
    order = _generator(seed, generator, "random_split").permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + length]))
        start += length
    return out


class TensorDataset(Dataset):
    """Rows of equally long arrays or tensors; item i is a tuple of row i of each."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("TensorDataset: expected at least one tensor, got no tensors")
        for i, a in enumerate(arrays):
            if not isinstance(a, (Tensor, np.ndarray)):
                raise TypeError(f"TensorDataset: argument {i} must be a Tensor (or NumPy array), got {type(a).__name__}")
            if a.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} has shape (); expected a first dim to index")
        # items are rows of the tensors as given (PyTorch's ``tensors``: views, on their
        # device); the loader batches from host copies of them (``arrays``)
        self.tensors = tuple(a if isinstance(a, Tensor) else from_numpy(np.asarray(a)) for a in arrays)
        self.arrays = [a.detach().cpu().numpy() if isinstance(a, Tensor) else np.asarray(a) for a in arrays]
        n = len(self.arrays[0])
        for i, a in enumerate(self.arrays):
            if len(a) != n:
                raise ValueError(f"TensorDataset: tensor {i} has {len(a)} rows, tensor 0 has {n}; "
                                 "all must have the same first dim")

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, idx):
        n = len(self.arrays[0])
        if isinstance(idx, (int, np.integer)) and not -n <= idx < n:
            raise IndexError(f"TensorDataset: index {idx} is out of range for {n} items; expected [{-n}, {n})")
        return tuple(t[idx] for t in self.tensors)


def _check_dataset(who, dataset):
    """A map-style dataset: something with __len__ and __getitem__."""
    if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")) or isinstance(dataset, (str, bytes)):
        raise TypeError(f"{who}: expected a dataset (an object with __len__ and __getitem__, such as a "
                        f"Dataset subclass or TensorDataset), got {type(dataset).__name__}")


def _as_array(value):
    """An item's field as a NumPy array (a tensor's values, not an object array)."""
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def collate(items):
    """Stack dataset items into a batch, as PyTorch's default collate does: a
    tuple or list of fields gives a tuple of batched fields, a dict a dict of
    them, strings a list, anything else (tensor, array, number) one tensor."""
    first = items[0]
    if isinstance(first, dict):
        return {k: collate([it[k] for it in items]) for k in first}
    if isinstance(first, (tuple, list)):
        if any(len(it) != len(first) for it in items):
            raise ValueError(f"DataLoader: items have different numbers of fields "
                             f"({sorted({len(it) for it in items})}); every item must have the same fields")
        return tuple(collate([it[k] for it in items]) for k in range(len(first)))
    if isinstance(first, str):
        return list(items)
    arrays = [_as_array(v) for v in items]
    if any(a.dtype == object for a in arrays):
        raise TypeError(f"DataLoader: an item field of type {type(first).__name__} is not numeric; "
                        "items must hold tensors, arrays, numbers or strings")
    try:
        batch = np.stack(arrays)
    except ValueError:
        raise ValueError(f"DataLoader: items have different shapes ({sorted({a.shape for a in arrays})}); "
                         "batch only items of one shape, or pad them first") from None
    # CPU tensors, as PyTorch's DataLoader gives; move them with .to(device)
    return from_numpy(np.ascontiguousarray(batch))


class DataLoader:
    """Batches of a dataset as CPU tensors (move them with ``.to(device)``),
    with PyTorch's arguments in PyTorch's order.

    ``shuffle`` reorders every epoch: from ``generator`` (a CPU
    ``tinygrad_bn.Generator``) or the loader's own ``seed`` (ours: two loaders
    with the same seed give the same batches); without either, from a seed drawn
    from tinygrad_bn's CPU generator at the start of each epoch, as PyTorch does,
    so ``manual_seed`` makes the order repeat. ``sampler`` gives the order of the
    indices instead, ``batch_sampler`` whole batches of indices. ``drop_last`` drops
    a final short batch. A ``TensorDataset`` is batched by fancy indexing; any
    other dataset by stacking its items (``collate``), or by ``collate_fn``.

    ``num_workers``, ``pin_memory``, ``timeout``, ``worker_init_fn``,
    ``multiprocessing_context``, ``prefetch_factor``, ``persistent_workers``,
    ``pin_memory_device`` and ``in_order`` are taken so PyTorch calls run, and
    change nothing: items load in the calling process, in order.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True, seed=None):
        _check_dataset("DataLoader", dataset)
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler and shuffle=True cannot go together (the sampler chooses the "
                             "order); expected one of them, as in PyTorch")
        for name, s in (("sampler", sampler), ("batch_sampler", batch_sampler)):
            if s is not None and not hasattr(s, "__iter__"):
                raise TypeError(f"DataLoader: {name} must be an iterable of indices, got {type(s).__name__}")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler gives whole batches, so it cannot go with batch_size, "
                             "shuffle, sampler or drop_last (as in PyTorch); pass it alone")
        for name, fn in (("collate_fn", collate_fn), ("worker_init_fn", worker_init_fn)):
            if fn is not None and not callable(fn):
                raise TypeError(f"DataLoader: {name} must be a function or None, got {type(fn).__name__}")
        self.sampler, self.batch_sampler, self.collate_fn = sampler, batch_sampler, collate_fn
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if isinstance(num_workers, bool) or not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be an int >= 0, got {num_workers!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError(f"DataLoader: timeout must be a number >= 0, got {timeout!r}")
        if generator is not None:
            _generator(seed, generator)  # checked now: a CPU Generator, and not with a seed
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = bool(shuffle), drop_last
        self.generator = generator
        self._rng = None if seed is None else np.random.default_rng(seed)

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset) if self.sampler is None else len(self.sampler)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        if self.batch_sampler is not None:
            for idx in self.batch_sampler:
                yield self._batch(np.asarray(list(idx), dtype=np.int64))
            return
        n = len(self.dataset)
        if self.sampler is not None:
            order = np.fromiter(iter(self.sampler), dtype=np.int64)
            n = len(order)
        elif self.shuffle:
            order = (self._rng if self._rng is not None else _generator(None, self.generator)).permutation(n)
        else:
            order = np.arange(n)
        for start in range(0, n, self.batch_size):
            idx = order[start:start + self.batch_size]
            if self.drop_last and len(idx) < self.batch_size:
                return
            yield self._batch(idx)

    def _batch(self, idx):
        if self.collate_fn is not None:
            return self.collate_fn([self.dataset[int(i)] for i in idx])
        if isinstance(self.dataset, TensorDataset):
            # CPU tensors, as PyTorch's DataLoader gives; move them with .to(device)
            return tuple(from_numpy(np.ascontiguousarray(a[idx])) for a in self.dataset.arrays)
        return collate([self.dataset[int(i)] for i in idx])
