"""random_split and DistributedSampler as properties over sizes, fractions, seeds,
epochs and world sizes: the splits partition the dataset with PyTorch's lengths
(each fraction's share floored, the remainder handed out one by one from the
first split), and the sampler's shards are one permutation per epoch (new each
epoch, the same on every rank), padded from its start or cut as PyTorch's."""
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_bn import distributed as dist
from tinygrad_bn.data import TensorDataset, random_split


def pytorch_lengths(n, fractions):
    """torch.utils.data.random_split's rule for fractions: floor, then the remainder
    one each, round-robin from the first split."""
    counts = [math.floor(n * f) for f in fractions]
    for i in range(n - sum(counts)):
        counts[i % len(counts)] += 1
    return counts


@st.composite
def fractions(draw):
    """2 to 6 fractions (some zero) whose float sum is within 1e-9 of 1 and at most 1."""
    weights = draw(st.lists(st.integers(0, 12), min_size=2, max_size=6).filter(lambda w: sum(w) > 0))
    fs = [w / sum(weights) for w in weights]
    fs[-1] = 1.0 - sum(fs[:-1])
    if fs[-1] < 0 or sum(fs) > 1 or abs(sum(fs) - 1) >= 1e-9:
        fs = [1.0 / len(weights)] * len(weights)
    return fs


def indices_of(subset):
    return [int(subset[i][0]) for i in range(len(subset))]


@given(n=st.integers(0, 60), fs=fractions(), seed=st.integers(0, 2 ** 16))
def test_random_split_by_fractions_partitions_with_pytorchs_lengths(n, fs, seed):
    data = TensorDataset(np.arange(n))
    parts = random_split(data, fs, seed=seed)
    assert [len(p) for p in parts] == pytorch_lengths(n, fs)
    got = [i for p in parts for i in indices_of(p)]
    assert sorted(got) == list(range(n))  # disjoint, and every item once
    again = random_split(data, fs, seed=seed)
    assert [indices_of(p) for p in again] == [indices_of(p) for p in parts]


@given(counts=st.lists(st.integers(0, 15), min_size=1, max_size=5), seed=st.integers(0, 2 ** 16))
def test_random_split_by_counts_takes_them_as_given(counts, seed):
    n = sum(counts)
    parts = random_split(TensorDataset(np.arange(n)), counts, seed=seed)
    assert [len(p) for p in parts] == counts
    assert sorted(i for p in parts for i in indices_of(p)) == list(range(n))


@pytest.mark.parametrize("n, fs, want", [
    (10, [0.5, 0.25, 0.25], [6, 2, 2]),         # 5, 2.5, 2.5 floored to 5, 2, 2: the one left to the first
    (10, [0.35, 0.35, 0.3], [4, 3, 3]),         # 3.5, 3.5, 3 floored to 3, 3, 3: rounding would give 4, 4, 3
    (7, [0.45, 0.45, 0.1], [4, 3, 0]),          # 3.15, 3.15, 0.7: floors 3, 3, 0 (rounding: 3, 3, 1), one left
    (5, [0.3, 0.3, 0.4], [2, 1, 2]),            # 1.5, 1.5, 2: floors 1, 1, 2, one left
    (11, [0.1] * 10, [2] + [1] * 9),            # 1.1 each: floors 1, one left
    (3, [0.6, 0.4], [2, 1]),                    # 1.8, 1.2: floors 1, 1
])
def test_random_split_lengths_on_worked_examples(n, fs, want):
    assert pytorch_lengths(n, fs) == want
    assert [len(p) for p in random_split(TensorDataset(np.arange(n)), fs, seed=0)] == want


@pytest.mark.filterwarnings("ignore:Length of split at index:UserWarning")  # torch's, for an empty split
@given(n=st.integers(1, 60), fs=fractions())
def test_random_split_lengths_match_torch(n, fs):
    torch = pytest.importorskip("torch")
    g = torch.Generator().manual_seed(0)
    want = [len(p) for p in torch.utils.data.random_split(range(n), fs, generator=g)]
    assert [len(p) for p in random_split(TensorDataset(np.arange(n)), fs, seed=0)] == want


# ------------------------------------------------------------------ DistributedSampler
def shards(n, replicas, epoch=0, **kw):
    out = []
    for r in range(replicas):
        s = dist.DistributedSampler(list(range(n)), num_replicas=replicas, rank=r, **kw)
        s.set_epoch(epoch)
        out.append(list(s))
        assert len(s) == len(out[-1])
    return out


def interleaved(parts):
    """The one order the ranks take their shards from: rank r has every replicas-th from r."""
    return [parts[i % len(parts)][i // len(parts)] for i in range(sum(len(p) for p in parts))]


@given(n=st.integers(1, 50), replicas=st.integers(1, 6), epoch=st.integers(0, 1000), seed=st.integers(0, 1000),
       drop_last=st.booleans(), shuffle=st.booleans())
def test_the_sampler_shards_one_padded_or_cut_permutation(n, replicas, epoch, seed, drop_last, shuffle):
    parts = shards(n, replicas, epoch, seed=seed, drop_last=drop_last, shuffle=shuffle)
    per_rank = n // replicas if drop_last else math.ceil(n / replicas)
    assert [len(p) for p in parts] == [per_rank] * replicas
    order = interleaved(parts)
    if drop_last:
        assert len(set(order)) == len(order) == per_rank * replicas  # a cut: no index twice
    else:
        assert sorted(order[:n]) == list(range(n))  # the permutation covers the dataset
        pad = len(order) - n
        assert order[n:] == (order[:n] * (pad // n + 1))[:pad]  # padded by repeating from its start
    if not shuffle:
        assert order == (list(range(n)) * (len(order) // max(n, 1) + 1))[:len(order)]


@given(n=st.integers(10, 50), replicas=st.integers(1, 4), epoch=st.integers(0, 1000), seed=st.integers(0, 1000),
       drop_last=st.booleans())
def test_each_epoch_reshuffles_alike_on_every_rank(n, replicas, epoch, seed, drop_last):
    this = shards(n, replicas, epoch, seed=seed, drop_last=drop_last)
    assert shards(n, replicas, epoch, seed=seed, drop_last=drop_last) == this  # every rank, every time
    nxt = shards(n, replicas, epoch + 1, seed=seed, drop_last=drop_last)
    assert interleaved(nxt) != interleaved(this)  # set_epoch moves the order (1 in 10! to agree by chance)
    # one sampler through its epochs gives what a fresh one set to each epoch gives
    s = dist.DistributedSampler(list(range(n)), num_replicas=replicas, rank=replicas - 1, seed=seed,
                                drop_last=drop_last)
    for e in (epoch, epoch + 1, epoch):
        s.set_epoch(e)
        assert list(s) == (this if e == epoch else nxt)[replicas - 1]


@pytest.mark.parametrize("n, replicas", [(1, 3), (2, 5), (7, 3), (9, 3), (10, 4), (13, 6)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_unshuffled_shards_are_pytorchs(n, replicas, drop_last):
    pytest.importorskip("torch")
    from torch.utils.data.distributed import DistributedSampler
    want = [list(DistributedSampler(range(n), num_replicas=replicas, rank=r, shuffle=False, drop_last=drop_last))
            for r in range(replicas)]
    assert shards(n, replicas, shuffle=False, drop_last=drop_last) == want
