"""The bundled digits, IDX files and the DataLoader."""
import gzip
import hashlib

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.data import DataLoader, TensorDataset, load_mnist, load_mnist_5k, mnist, random_split, read_idx


def test_bundled_file_is_the_documented_one():
    digest = hashlib.sha256(mnist.BUNDLED.read_bytes()).hexdigest()
    assert digest == mnist.BUNDLED_SHA256
    assert mnist.BUNDLED.with_name("MNIST_5K_README.md").exists()  # attribution travels with it


def test_split_is_stratified_seeded_and_disjoint():
    xtr, ytr, xte, yte = load_mnist_5k(seed=0)
    assert xtr.shape == (4000, 784) and xte.shape == (1000, 784) and xtr.dtype == np.float32
    assert np.bincount(yte).tolist() == [100] * 10
    assert np.bincount(ytr).tolist() == [400] * 10
    assert len(np.unique(ytr[:50])) > 5  # shuffled across classes, not sorted by label
    again = load_mnist_5k(seed=0)
    np.testing.assert_array_equal(again[0], xtr)
    other = load_mnist_5k(seed=1)
    assert not np.array_equal(other[3], yte)
    raw = load_mnist_5k(normalize=False)[0]
    train_rows = {r.tobytes() for r in raw}
    test_rows = load_mnist_5k(normalize=False)[2]
    assert sum(r.tobytes() in train_rows for r in test_rows) < 5  # only true duplicate images
    with pytest.raises(ValueError, match="multiple of 10"):
        load_mnist_5k(test_size=15)
    for bad in (-10, 2.0, True):  # a negative multiple of 10 too
        with pytest.raises(ValueError, match=r"test_size must be an int >= 0"):
            load_mnist_5k(test_size=bad)


def test_the_largest_test_size_the_error_names_is_the_largest_that_works():
    """Too large a test_size names the largest that leaves a training digit of
    every class (500 per class: 10 x 499), and that one works."""
    with pytest.raises(ValueError, match=r"leaves no training digits of class 0; expected at most 4990$"):
        load_mnist_5k(test_size=5000)
    xtr, ytr, xte, _ = load_mnist_5k(test_size=4990, normalize=False)
    assert len(xte) == 4990 and np.bincount(ytr).tolist() == [1] * 10


def write_idx(path, arr, gz):
    header = bytes([0, 0, 0x08, arr.ndim]) + b"".join(int(n).to_bytes(4, "big") for n in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize("gz", [False, True])
def test_read_idx(tmp_path, gz):
    arr = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    p = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(p, arr, gz)
    np.testing.assert_array_equal(read_idx(p), arr)


def test_read_idx_rejects_damaged_files(tmp_path):
    p = tmp_path / "bad"
    p.write_bytes(b"\x12\x34\x56\x78")
    with pytest.raises(ValueError, match="not an IDX file"):
        read_idx(p)
    for magic in (b"\x00\x01\x08\x01", b"\x01\x00\x08\x01"):  # either of the two zero bytes set
        p.write_bytes(magic + b"\x00\x00\x00\x01" + b"\x07")
        with pytest.raises(ValueError, match="not an IDX file"):
            read_idx(p)
    write_idx(tmp_path / "t", np.zeros((4, 4), np.uint8), False)
    data = (tmp_path / "t").read_bytes()
    (tmp_path / "t").write_bytes(data[:-3])
    with pytest.raises(ValueError, match="truncated"):
        read_idx(tmp_path / "t")


def test_load_mnist_from_unpacked_files(tmp_path):
    images = np.random.default_rng(0).integers(0, 255, (5, 28, 28)).astype(np.uint8)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", images, False)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(5), False)
    x, y = load_mnist(tmp_path, train=False)
    assert x.shape == (5, 784) and y.tolist() == [0, 1, 2, 3, 4]


def test_load_mnist_refuses_files_that_are_not_mnist_images_and_labels(tmp_path):
    images = np.zeros((5, 28, 28), np.uint8)
    # each message names the file at fault
    cases = [(images, images, "labels-idx1-ubyte holds uint8 data of shape (5, 28, 28); mnist labels are uint8 classes"),
             (np.zeros((5, 28, 7), np.uint8), np.arange(5), "images-idx3-ubyte holds uint8 data of shape (5, 28, 7)"),
             (images, np.full(5, 12), "labels-idx1-ubyte holds uint8 data of shape (5,); mnist labels are uint8 "
                                      "classes 0-9"),
             (images, np.array(3), "labels-idx1-ubyte holds uint8 data of shape (); mnist labels are uint8 classes 0-9 "
                                   "of shape (N,)")]  # a 0-d labels file: one number, no list of labels
    for imgs, labels, message in cases:
        write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs, False)
        write_idx(tmp_path / "t10k-labels-idx1-ubyte", labels, False)
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            load_mnist(tmp_path, train=False)


def test_gz_files_are_checked_against_sha256(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((2, 28, 28)), True)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(2), True)
    with pytest.raises(ValueError, match="sha256"):
        load_mnist(tmp_path, train=False)


def test_the_sha256_check_streams_a_file_in_chunks_of_at_most_a_mebibyte(tmp_path):
    # A downloaded archive may be large; the check must not hold it, nor big pieces
    # of it, in memory. While hashing, the next 1 MiB chunk is read before the last
    # one is dropped, so Python's allocations peak near 2 MiB, far below 8.
    import tracemalloc

    path = tmp_path / "big.bin"
    data = np.random.default_rng(0).integers(0, 256, 8 << 20, dtype=np.uint8).tobytes()
    path.write_bytes(data)
    tracemalloc.start()
    try:
        got = mnist._sha256(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == hashlib.sha256(data).hexdigest()
    assert peak < 3 << 20, f"hashing 8 MiB peaked at {peak} bytes of Python memory"


def test_missing_files_offline_say_where_to_put_them(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="download_missing=True"):
        load_mnist(tmp_path, kind="fashion-mnist")

    def offline(*a, **k):
        raise OSError("network is unreachable")

    monkeypatch.setattr(mnist.urllib.request, "urlopen", offline)
    with pytest.raises(RuntimeError, match="offline.*put them in"):
        load_mnist(tmp_path, download_missing=True)
    with pytest.raises(ValueError, match="kind"):
        load_mnist(tmp_path, kind="cifar")


def test_dataloader_batches_shuffle_and_drop_last():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    batches = list(DataLoader(TensorDataset(x, y), batch_size=4))
    assert [len(b[1]) for b in batches] == [4, 4, 2]
    assert isinstance(batches[0][0], tg.Tensor)
    assert len(DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)) == 2
    a = [b[1].tolist() for b in DataLoader(TensorDataset(x, y), 3, shuffle=True, seed=5)]
    b = [b[1].tolist() for b in DataLoader(TensorDataset(x, y), 3, shuffle=True, seed=5)]
    assert a == b and sorted(sum(a, [])) == list(range(10)) and sum(a, []) != list(range(10))
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(x, y), batch_size=0)
    with pytest.raises(ValueError, match="rows"):
        TensorDataset(x, y[:3])


class _Pairs:
    """A map-style dataset as PyTorch users write one: __getitem__ returns tensors."""

    def __init__(self, n, kind="tuple"):
        self.n, self.kind = n, kind

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        x = tg.tensor([float(i), float(i) + 0.5])
        y = tg.tensor(i % 3)
        if self.kind == "dict":
            return {"image": x, "label": y, "name": f"item{i}"}
        if self.kind == "single":
            return x
        return x, y


def test_a_dataset_of_tensors_batches_to_numeric_tensors():
    xb, yb = next(iter(DataLoader(_Pairs(5), batch_size=4)))
    assert xb.dtype == np.float32 and xb.shape == (4, 2) and yb.dtype == np.int64
    np.testing.assert_array_equal(yb.numpy(), [0, 1, 2, 0])
    batch = next(iter(DataLoader(_Pairs(5, "dict"), batch_size=2)))
    assert set(batch) == {"image", "label", "name"} and batch["image"].shape == (2, 2)
    assert batch["name"] == ["item0", "item1"]
    single = next(iter(DataLoader(_Pairs(5, "single"), batch_size=3)))
    assert isinstance(single, tg.Tensor) and single.shape == (3, 2)


def test_manual_seed_makes_an_unseeded_shuffle_repeat():
    x = np.arange(20, dtype=np.float32).reshape(20, 1)

    def order():
        loader = DataLoader(TensorDataset(x), batch_size=20, shuffle=True)
        return [next(iter(loader))[0].numpy().ravel().tolist() for _ in range(2)]

    tg.manual_seed(3)
    first = order()
    tg.manual_seed(3)
    assert order() == first
    assert first[0] != first[1]  # a new order every epoch
    assert sorted(first[0]) == list(range(20))


def test_items_that_do_not_stack_get_a_clear_error():
    class Ragged:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.zeros(i + 1), 0

    with pytest.raises(ValueError, match="different shapes"):
        next(iter(DataLoader(Ragged(), batch_size=2)))

    class Objects:
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return object()

    with pytest.raises(TypeError, match="not numeric"):
        next(iter(DataLoader(Objects(), batch_size=2)))


def test_random_split_partitions_and_follows_manual_seed():
    from tinygrad_bn.data import Subset, random_split

    data = TensorDataset(np.arange(10))
    tg.manual_seed(1)
    a, b = random_split(data, [7, 3])
    assert isinstance(a, Subset) and (len(a), len(b)) == (7, 3)
    items = sorted(int(a[i][0]) for i in range(7)) + sorted(int(b[i][0]) for i in range(3))
    assert sorted(items) == list(range(10))
    tg.manual_seed(1)
    a2, _ = random_split(data, [7, 3])
    assert [int(a2[i][0]) for i in range(7)] == [int(a[i][0]) for i in range(7)]
    assert [len(s) for s in random_split(data, [0.5, 0.25, 0.25])] == [6, 2, 2]  # PyTorch spreads the rest from the first
    with pytest.raises(ValueError, match="summing to the dataset's length \\(10\\)"):
        random_split(data, [5, 4])


def test_read_idx_reads_no_more_than_its_header_promises(tmp_path):
    import gzip

    from tinygrad_bn.data import read_idx

    header = bytes([0, 0, 0x08, 2]) + (3).to_bytes(4, "big") + (2).to_bytes(4, "big")
    good = tmp_path / "ok-idx.gz"
    good.write_bytes(gzip.compress(header + bytes(range(6))))
    assert read_idx(good).tolist() == [[0, 1], [2, 3], [4, 5]]
    bomb = tmp_path / "bomb-idx.gz"  # 6 bytes promised, 64 MB of zeros after them
    bomb.write_bytes(gzip.compress(header + bytes(6) + bytes(64 << 20)))
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(ValueError, match="holds more than 6 bytes of data, its header promises 6"):
        read_idx(bomb)
    huge = tmp_path / "huge-idx"
    huge.write_bytes(bytes([0, 0, 0x08, 2]) + (1 << 20).to_bytes(4, "big") + (1 << 20).to_bytes(4, "big"))
    with pytest.raises(ValueError, match="the header is damaged"):
        read_idx(huge)


def test_load_refuses_a_fifo_instead_of_hanging(tmp_path):
    import os

    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match="not a regular file"):
        tg.load(fifo)


def test_download_keeps_a_file_whose_sha256_matches_and_tries_the_next_mirror_otherwise(tmp_path, monkeypatch):
    """Two local mirrors (file:// URLs): the first serves damaged files, the second the right
    ones. Every file must come from the second (its digest checked, the damaged copy dropped),
    and with only the damaged mirror the download fails naming the digest mismatch."""
    import hashlib

    bad, good = tmp_path / "bad", tmp_path / "good"
    bad.mkdir()
    good.mkdir()
    files = {}
    for k, name in enumerate(mnist._FILES["mnist"]):
        payload = f"file {k}".encode()
        (good / name).write_bytes(payload)
        (bad / name).write_bytes(payload + b" damaged")
        files[name] = hashlib.sha256(payload).hexdigest()
    monkeypatch.setitem(mnist._FILES, "mnist", files)
    monkeypatch.setitem(mnist._MIRRORS, "mnist", [bad.as_uri() + "/", good.as_uri() + "/"])
    out = tmp_path / "out"
    mnist.download(out)
    for name in files:
        assert (out / name).read_bytes() == (good / name).read_bytes()
    assert not list(out.glob("*.part"))
    monkeypatch.setitem(mnist._MIRRORS, "mnist", [bad.as_uri() + "/"])
    mnist.download(out)  # every file there matches its digest: kept, nothing fetched from the damaged mirror
    for name in files:
        assert (out / name).read_bytes() == (good / name).read_bytes()
    with pytest.raises(RuntimeError, match="does not match the expected"):
        mnist.download(tmp_path / "out2")


def test_a_dataloader_with_no_options_gives_batches_of_one_in_order():
    """PyTorch's defaults: batch_size=1, shuffle=False, drop_last=False."""
    data = TensorDataset(tg.arange(5.0), tg.arange(5))
    batches = list(DataLoader(data))
    assert len(batches) == 5
    assert [(x.tolist(), y.tolist()) for x, y in batches] == [([float(i)], [i]) for i in range(5)]


def test_dataloader_takes_pytorchs_arguments_in_pytorchs_order():
    """DataLoader(dataset, batch_size, shuffle, sampler, batch_sampler, num_workers, collate_fn,
    pin_memory, drop_last, timeout, worker_init_fn, multiprocessing_context, generator)."""
    ds = TensorDataset(np.arange(10.0), np.arange(10))

    def epoch(loader):
        return [b[1].tolist() for b in loader]
    seeded = [epoch(DataLoader(ds, 4, True, None, None, 0, None, False, True, 0, None, None,
                               tg.Generator().manual_seed(3))) for _ in range(2)]
    assert seeded[0] == seeded[1] and [len(b) for b in seeded[0]] == [4, 4]  # drop_last, by position
    loader = DataLoader(ds, 5, shuffle=True, generator=tg.Generator().manual_seed(3))
    first, second = epoch(loader), epoch(loader)  # the generator moves on: a new order each epoch
    assert first != second and sorted(sum(first, [])) == sorted(sum(second, [])) == list(range(10))
    assert epoch(DataLoader(ds, batch_sampler=[[3, 1], [0, 9, 2]])) == [[3, 1], [0, 9, 2]]
    assert len(DataLoader(ds, batch_sampler=[[3, 1], [0, 9, 2]])) == 2
    assert list(DataLoader(ds, 4, collate_fn=lambda items: [int(y) for _, y in items])) == [[0, 1, 2, 3], [4, 5, 6, 7],
                                                                                         [8, 9]]
    with pytest.raises(ValueError, match="batch_sampler"):
        DataLoader(ds, 2, batch_sampler=[[0]])
    with pytest.raises(TypeError, match="generator must be a tinygrad_bn.Generator"):
        DataLoader(ds, 2, shuffle=True, generator=7)
    with pytest.raises(ValueError, match="both seed"):
        DataLoader(ds, 2, shuffle=True, generator=tg.Generator(), seed=1)


def test_random_split_draws_its_order_from_a_generator_it_is_given():
    data = list(range(10))

    def split(generator):
        return [s.indices for s in random_split(data, [0.7, 0.3], generator=generator)]
    assert split(tg.Generator().manual_seed(42)) == split(tg.Generator().manual_seed(42))
    g = tg.Generator().manual_seed(42)
    first, second = split(g), split(g)
    assert first != second and sorted(first[0] + first[1]) == list(range(10))
    tg.manual_seed(0)
    default = split(None)
    tg.manual_seed(0)
    assert split(None) == default  # without one, the CPU default stream that manual_seed sets
    with pytest.raises(TypeError, match="generator must be a tinygrad_bn.Generator"):
        random_split(data, [5, 5], generator=np.random.default_rng(0))


def test_images_are_standardised_from_0_1_pixels_with_mnists_mean_and_std():
    """torchvision's ToTensor then Normalize((0.1307,), (0.3081,)): pixel / 255, then
    (x - 0.1307) / 0.3081, in float32, one row of 784 per image."""
    from tinygrad_bn.data.mnist import normalize_images
    images = np.zeros((2, 28, 28), np.uint8)
    images[0, 0, :3] = [0, 128, 255]
    images[1, 27, 27] = 51
    x = normalize_images(images)
    assert x.shape == (2, 784) and x.dtype == np.float32
    want = (np.array([0, 128, 255, 51], np.float32) / np.float32(255) - np.float32(0.1307)) / np.float32(0.3081)
    np.testing.assert_allclose(x[[0, 0, 0, 1], [0, 1, 2, 783]], want, rtol=1e-6)
    assert (x[0, 3:] == x[0, 3]).all() and x[0, 3] == pytest.approx(-0.1307 / 0.3081, rel=1e-6)
