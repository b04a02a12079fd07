"""IDX files, load_mnist, load_mnist_5k and download at their edges: every IDX type code
of the format (http://yann.lecun.com/exdb/mnist/: 0x08 unsigned byte, 0x09 signed byte,
0x0B short, 0x0C int, 0x0D float, 0x0E double, all big-endian) reads back its values in
native byte order; the header's size limit is 2 GiB counted in bytes, not elements; a
damaged gzip stream of each kind is a ValueError naming the file; MNIST labels run 0 to 9
inclusive, images and labels are uint8 and equally many; an empty pair of files is an
empty dataset; and download keeps going past a mirror that cannot be reached and past a
file it already has."""
import gzip

import numpy as np
import pytest

from tinygrad_bn.data import load_mnist, load_mnist_5k, mnist, read_idx

CODES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.int16, 0x0C: np.int32, 0x0D: np.float32, 0x0E: np.float64}


def idx_bytes(arr, code=0x08, dims=None):
    """An IDX file of ``arr`` with type ``code`` (its values big-endian), or a header of ``dims`` alone."""
    if arr is not None:
        arr = np.asarray(arr)
    dims = arr.shape if dims is None else dims
    header = bytes([0, 0, code, len(dims)]) + b"".join(int(n).to_bytes(4, "big") for n in dims)
    if arr is None:
        return header
    return header + arr.astype(np.dtype(CODES[code]).newbyteorder(">")).tobytes()


@pytest.mark.parametrize("code", sorted(CODES), ids=hex)
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_every_idx_type_code_reads_back_its_values_in_native_order(tmp_path, code, gz):
    values = {0x08: [0, 7, 255], 0x09: [-128, -1, 127], 0x0B: [-300, 1000, 32767], 0x0C: [-70000, 2 ** 31 - 1, 5],
              0x0D: [1.5, -2.25, 3e38], 0x0E: [1e300, -0.125, 2.0 ** -1000]}[code]
    arr = np.array(values * 2, dtype=CODES[code]).reshape(2, 3)
    path = tmp_path / ("a-idx.gz" if gz else "a-idx")
    path.write_bytes(gzip.compress(idx_bytes(arr, code)) if gz else idx_bytes(arr, code))
    got = read_idx(path)
    assert got.dtype == np.dtype(CODES[code]) and got.dtype.isnative and got.shape == (2, 3)
    np.testing.assert_array_equal(got, arr)


@pytest.mark.parametrize("code", [0x00, 0x07, 0x0A, 0x0F])
def test_an_unknown_type_code_is_named_with_the_known_ones(tmp_path, code):
    path = tmp_path / "x-idx"
    path.write_bytes(bytes([0, 0, code, 1]) + (1).to_bytes(4, "big") + b"\x01")
    with pytest.raises(ValueError, match=rf"has an unknown IDX type code 0x{code:02x}; expected one of "
                                         r"0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e$"):
        read_idx(path)


@pytest.mark.parametrize("code, dims, promised", [
    (0x08, (2 ** 31 + 1,), 2 ** 31 + 1),           # one byte past the limit
    (0x0E, (2 ** 28 + 1,), 2 ** 31 + 8),           # 2**28 + 1 elements are few; as doubles, one past the limit
    (0x0C, (2 ** 15, 2 ** 14 + 1), 2 ** 31 + 2 ** 17),
])
def test_a_header_promising_more_than_2_gib_of_bytes_is_refused(tmp_path, code, dims, promised):
    path = tmp_path / "big-idx"
    path.write_bytes(idx_bytes(None, code, dims))
    with pytest.raises(ValueError, match=rf"promises {promised} bytes of data \(shape \({', '.join(map(str, dims))},?\)\), "
                                         r"more than the 2147483648 this reader takes; the header is damaged"):
        read_idx(path)


def test_a_header_cut_short_is_named_as_such(tmp_path):
    path = tmp_path / "x-idx"
    path.write_bytes(b"\x00\x00\x08")
    with pytest.raises(ValueError, match=r"is too short for an IDX header \(3 bytes\); expected at least 4"):
        read_idx(path)
    path.write_bytes(bytes([0, 0, 8, 3]) + (2).to_bytes(4, "big") + (2).to_bytes(4, "big") + b"\x00\x00")
    with pytest.raises(ValueError, match="ends inside its header; the file is truncated"):
        read_idx(path)


@pytest.mark.parametrize("damage, error", [
    (lambda gz: gz[:len(gz) // 2], "EOFError"),          # the stream stops before its end marker
    (lambda gz: gz[:10] + b"\xff" * 20, "error"),       # zlib.error: an invalid deflate block
])
def test_a_damaged_gzip_stream_is_a_value_error_naming_the_file(tmp_path, damage, error):
    raw = idx_bytes(np.arange(4000) % 251)
    path = tmp_path / "x-idx.gz"
    path.write_bytes(damage(gzip.compress(raw)))
    with pytest.raises(ValueError, match=rf"read_idx: cannot read {path}, the file is damaged or not a valid "
                                         rf"gzip/IDX file \({error}: "):
        read_idx(path)


# ------------------------------------------------------------------------------ load_mnist

def write_pair(root, images, labels, prefix="t10k", image_code=0x08, label_code=0x08):
    (root / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(images, image_code))
    (root / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(labels, label_code))


def test_labels_run_from_0_to_9_inclusive(tmp_path):
    images = np.zeros((3, 28, 28), np.uint8)
    write_pair(tmp_path, images, [0, 9, 4])
    assert load_mnist(tmp_path, train=False)[1].tolist() == [0, 9, 4]
    write_pair(tmp_path, images, [0, 10, 4])
    with pytest.raises(ValueError, match=r"holds uint8 data of shape \(3,\); mnist labels are uint8 classes 0-9"):
        load_mnist(tmp_path, train=False)


@pytest.mark.parametrize("image_code, label_code, which, dtype", [
    (0x09, 0x08, "images", "int8"), (0x0B, 0x08, "images", "int16"), (0x0D, 0x08, "images", "float32"),
    (0x08, 0x09, "labels", "int8"), (0x08, 0x0C, "labels", "int32"), (0x08, 0x0E, "labels", "float64"),
])
def test_images_and_labels_must_be_unsigned_bytes(tmp_path, image_code, label_code, which, dtype):
    """An IDX file of another type, though of the right shape and values, is not MNIST's."""
    write_pair(tmp_path, np.ones((2, 28, 28)), [1, 2], image_code=image_code, label_code=label_code)
    with pytest.raises(ValueError, match=rf"{which}-idx\d-ubyte holds {dtype} data of shape"):
        load_mnist(tmp_path, train=False)


@pytest.mark.parametrize("n_images, n_labels", [(3, 2), (2, 3)])
def test_images_and_labels_must_be_equally_many(tmp_path, n_images, n_labels):
    write_pair(tmp_path, np.zeros((n_images, 28, 28), np.uint8), np.zeros(n_labels, np.uint8))
    with pytest.raises(ValueError, match=rf"^load_mnist: {n_images} images but {n_labels} labels in "):
        load_mnist(tmp_path, train=False)


def test_an_empty_pair_of_files_is_an_empty_dataset(tmp_path):
    write_pair(tmp_path, np.zeros((0, 28, 28), np.uint8), np.zeros(0, np.uint8))
    x, y = load_mnist(tmp_path, train=False)
    assert x.shape == (0, 784) and x.dtype == np.float32 and y.shape == (0,) and y.dtype == np.int64


def test_load_mnist_reads_the_training_files_unless_told(tmp_path):
    """train=True by default: the train-* files; train=False: the t10k-* files."""
    write_pair(tmp_path, np.full((2, 28, 28), 255, np.uint8), [3, 4], prefix="train")
    write_pair(tmp_path, np.zeros((1, 28, 28), np.uint8), [7], prefix="t10k")
    x, y = load_mnist(tmp_path)
    assert y.tolist() == [3, 4] and x.shape == (2, 784)
    assert load_mnist(tmp_path, train=False)[1].tolist() == [7]


# ---------------------------------------------------------------------------- load_mnist_5k

def test_load_mnist_5k_defaults_and_an_empty_test_set():
    """Defaults test_size=1000, seed=0, normalize=True; test_size=0 keeps every digit for training."""
    default, explicit = load_mnist_5k(), load_mnist_5k(test_size=1000, seed=0, normalize=True)
    for a, b in zip(default, explicit):
        np.testing.assert_array_equal(a, b)
    xtr, ytr, xte, yte = load_mnist_5k(test_size=0, normalize=False)
    assert xtr.shape == (5000, 28, 28) and xte.shape == (0, 28, 28) and yte.shape == (0,)
    assert np.bincount(ytr).tolist() == [500] * 10
    xtr, _, xte, _ = load_mnist_5k(test_size=0)  # no test images standardise to (0, 784)
    assert xtr.shape == (5000, 784) and xte.shape == (0, 784) and xte.dtype == np.float32


def test_normalize_images_of_no_images_is_an_empty_batch_of_rows():
    """(N, 28, 28) -> (N, 784) for every N, N = 0 too."""
    from tinygrad_bn.data import normalize_images
    for n in (0, 1, 3):
        x = normalize_images(np.zeros((n, 28, 28), np.uint8))
        assert x.shape == (n, 784) and x.dtype == np.float32


# ------------------------------------------------------------------------------- download

def _mirror(tmp_path, monkeypatch):
    """A local mirror of four small files, registered as the mnist files and their digests."""
    import hashlib

    good = tmp_path / "good"
    good.mkdir()
    files = {}
    for k, name in enumerate(mnist._FILES["mnist"]):
        payload = f"file {k}".encode()
        (good / name).write_bytes(payload)
        files[name] = hashlib.sha256(payload).hexdigest()
    monkeypatch.setitem(mnist._FILES, "mnist", files)
    return good, files


def test_download_goes_past_a_mirror_it_cannot_reach(tmp_path, monkeypatch):
    good, files = _mirror(tmp_path, monkeypatch)
    monkeypatch.setitem(mnist._MIRRORS, "mnist", [(tmp_path / "missing").as_uri() + "/", good.as_uri() + "/"])
    out = tmp_path / "a" / "b"  # folders made as needed
    mnist.download(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    for name in files:
        assert (out / name).read_bytes() == (good / name).read_bytes()


def test_download_fetches_the_files_missing_after_one_it_already_has(tmp_path, monkeypatch):
    good, files = _mirror(tmp_path, monkeypatch)
    monkeypatch.setitem(mnist._MIRRORS, "mnist", [good.as_uri() + "/"])
    out = tmp_path / "out"
    out.mkdir()
    first = next(iter(files))
    (out / first).write_bytes((good / first).read_bytes())
    mnist.download(out)
    for name in files:
        assert (out / name).read_bytes() == (good / name).read_bytes()


def test_download_waits_30_seconds_for_a_mirror_unless_told(tmp_path, monkeypatch):
    seen = []

    def offline(url, timeout):
        seen.append(timeout)
        raise OSError("network is unreachable")

    monkeypatch.setattr(mnist.urllib.request, "urlopen", offline)
    for kw, want in (({}, 30), ({"timeout": 5}, 5)):
        seen.clear()
        with pytest.raises(RuntimeError, match="could not fetch train-images-idx3-ubyte.gz"):
            mnist.download(tmp_path, **kw)
        assert seen == [want] * len(mnist._MIRRORS["mnist"])
