"""MNIST data: the 5,000 digits bundled with the package, and the standard MNIST
and Fashion-MNIST IDX files read from a folder (downloaded with sha256 checks
when the network allows).

The bundled digits are real MNIST images (500 per class); see
``MNIST_5K_README.md`` beside this file for their source and licence
(CC BY-SA 3.0, Yann LeCun, Corinna Cortes and Christopher J.C. Burges).
"""
import gzip
import hashlib
import os
import shutil
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

BUNDLED = Path(__file__).with_name("mnist_5k.npz")
BUNDLED_SHA256 = "246e0c30eeea57c8d0037d3f38c8e00651ec204cc61b8022563e9aeeb9d756f4"

# Mean and standard deviation of MNIST training pixels scaled to [0, 1].
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081

# File names and sha256 of the gzipped IDX files.
_FILES = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
        "train-labels-idx1-ubyte.gz": "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
        "t10k-images-idx3-ubyte.gz": "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
        "t10k-labels-idx1-ubyte.gz": "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
    },
}
_MIRRORS = {
    "mnist": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"],
    "fashion-mnist": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"],
}

_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def normalize_images(images):
    """uint8 images (N, 28, 28) -> float32 (N, 784), standardised with MNIST's mean and std."""
    # the row length from the image shape, not -1: NumPy cannot infer it for no images
    x = images.reshape(len(images), int(np.prod(images.shape[1:]))).astype(np.float32) / 255.0
    return (x - MNIST_MEAN) / MNIST_STD


def load_mnist_5k(test_size=1000, seed=0, normalize=True):
    """The bundled 5,000 digits split into train and test sets.

    The split is stratified (each class contributes ``test_size / 10`` test
    digits) and seeded. Returns ``(x_train, y_train, x_test, y_test)``: images
    as float32 (N, 784) standardised with MNIST's mean and std (or uint8
    (N, 28, 28) with ``normalize=False``), labels as int64.
    """
    with np.load(BUNDLED, allow_pickle=False) as f:
        images, labels = f["images"], f["labels"].astype(np.int64)
    classes = np.unique(labels)
    if isinstance(test_size, bool) or not isinstance(test_size, (int, np.integer)) or test_size < 0:
        raise ValueError(f"load_mnist_5k: test_size must be an int >= 0 (a multiple of {len(classes)}), "
                         f"got {test_size!r}")
    if test_size % len(classes):
        raise ValueError(f"load_mnist_5k: test_size must be a multiple of {len(classes)} for a stratified split, got {test_size}")
    per_class = test_size // len(classes)
    rng = np.random.default_rng(seed)
    test_idx, train_idx = [], []
    for c in classes:
        idx = rng.permutation(np.flatnonzero(labels == c))
        if per_class >= len(idx):
            raise ValueError(f"load_mnist_5k: test_size {test_size} leaves no training digits of class {c}; "
                             f"expected at most {len(classes) * (len(idx) - 1)}")
        test_idx.append(idx[:per_class])
        train_idx.append(idx[per_class:])
    # Shuffle across classes too: the file is sorted by label.
    train_idx = rng.permutation(np.concatenate(train_idx))
    test_idx = rng.permutation(np.concatenate(test_idx))
    prep = normalize_images if normalize else (lambda a: a)
    return prep(images[train_idx]), labels[train_idx], prep(images[test_idx]), labels[test_idx]


# IDX files hold datasets of MNIST's size; a header promising more is damaged
MAX_IDX_BYTES = 1 << 31


def read_idx(path):
    """Read one IDX file (raw or .gz) into a NumPy array."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"read_idx: no such file: {path}")
    if not path.is_file():
        raise ValueError(f"read_idx: {path} is not a regular file; expected an IDX file (raw or .gz)")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            # the header first: it says how many bytes follow, and no more than
            # that (plus one, to notice extra) is read, so a small .gz that
            # unpacks to gigabytes is refused after reading what was promised
            magic = f.read(4)
            if len(magic) < 4:
                raise ValueError(f"read_idx: {path} is too short for an IDX header ({len(magic)} bytes); "
                                 "expected at least 4, the file is empty or truncated")
            if magic[0] != 0 or magic[1] != 0:
                raise ValueError(f"read_idx: {path} is not an IDX file (magic number {magic.hex()}); "
                                 "expected two zero bytes, a type code and the number of dims")
            if magic[2] not in _IDX_DTYPES:
                raise ValueError(f"read_idx: {path} has an unknown IDX type code 0x{magic[2]:02x}; expected one of "
                                 + ", ".join(f"0x{k:02x}" for k in sorted(_IDX_DTYPES)))
            ndim = magic[3]
            dims_raw = f.read(4 * ndim)
            if len(dims_raw) < 4 * ndim:
                raise ValueError(f"read_idx: {path} ends inside its header; the file is truncated")
            dims = tuple(int.from_bytes(dims_raw[4 * i: 4 * i + 4], "big") for i in range(ndim))
            dtype = np.dtype(_IDX_DTYPES[magic[2]])
            expected = int(np.prod(dims, dtype=object)) * dtype.itemsize
            if expected > MAX_IDX_BYTES:
                raise ValueError(f"read_idx: {path} promises {expected} bytes of data (shape {dims}), more "
                                 f"than the {MAX_IDX_BYTES} this reader takes; the header is damaged")
            body = f.read(expected + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"read_idx: cannot read {path}, the file is damaged or not a valid gzip/IDX file "
                         f"({type(exc).__name__}: {exc})") from None
    if len(body) != expected:
        raise ValueError(f"read_idx: {path} holds {'more than ' if len(body) > expected else ''}"
                         f"{min(len(body), expected)} bytes of data, its header promises {expected}; "
                         "the file is truncated or damaged (expected the two to match)")
    return np.frombuffer(body, dtype=dtype).reshape(dims).astype(dtype.newbyteorder("="))


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _find(root, name):
    """The file ``name`` (gz) or its unpacked twin in ``root``, or None."""
    for candidate in (root / name, root / name[:-3]):
        if candidate.exists():
            return candidate
    return None


def download(root, kind="mnist", timeout=30):
    """Fetch the four IDX files of ``kind`` into ``root``, checking each sha256."""
    if kind not in _FILES:
        raise ValueError(f"download: kind must be one of {sorted(_FILES)}, got {kind!r}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for name, digest in _FILES[kind].items():
        target = root / name
        if target.exists() and _sha256(target) == digest:
            continue
        errors = []
        for mirror in _MIRRORS[kind]:
            tmp = target.with_suffix(".part")
            try:
                with urllib.request.urlopen(mirror + name, timeout=timeout) as r, open(tmp, "wb") as f:
                    shutil.copyfileobj(r, f)
            except (urllib.error.URLError, OSError) as exc:
                errors.append(f"{mirror}: {exc}")
                continue
            got = _sha256(tmp)
            if got != digest:
                tmp.unlink()
                errors.append(f"{mirror}: sha256 {got} does not match the expected {digest}")
                continue
            os.replace(tmp, target)
            break
        else:
            raise RuntimeError(
                f"download: could not fetch {name} ({'; '.join(errors)}). If this machine is "
                f"offline, download the four {kind} files ({', '.join(_FILES[kind])}) "
                f"elsewhere and put them in {root.resolve()}"
            )


def load_mnist(root, kind="mnist", train=True, download_missing=False, normalize=True):
    """Images and labels of MNIST or Fashion-MNIST from the IDX files in ``root``.

    Files may be gzipped or raw. Gzipped files are checked against their sha256.
    With ``download_missing`` absent files are fetched. Returns ``(x, y)`` like
    ``load_mnist_5k``.
    """
    if kind not in _FILES:
        raise ValueError(f"load_mnist: kind must be one of {sorted(_FILES)}, got {kind!r}")
    root = Path(root)
    prefix = "train" if train else "t10k"
    names = [f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"]
    paths = [_find(root, n) for n in names]
    if any(p is None for p in paths):
        if not download_missing:
            raise FileNotFoundError(
                f"load_mnist: {kind} files {names} (or their unpacked versions) are not in "
                f"{root.resolve()}; put them there or pass download_missing=True"
            )
        download(root, kind)
        paths = [_find(root, n) for n in names]
    for p, n in zip(paths, names):
        if p.suffix == ".gz" and _sha256(p) != _FILES[kind][n]:
            raise ValueError(f"load_mnist: {p} does not match the published sha256 of {n}; delete it and download again")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"load_mnist: {paths[0]} holds {images.dtype} data of shape {images.shape}; "
                         f"{kind} images are uint8 of shape (N, 28, 28): is it the right file?")
    if labels.ndim != 1 or labels.dtype != np.uint8 or (labels.size and labels.max() > 9):
        raise ValueError(f"load_mnist: {paths[1]} holds {labels.dtype} data of shape {labels.shape}; "
                         f"{kind} labels are uint8 classes 0-9 of shape (N,): is it the right file?")
    labels = labels.astype(np.int64)
    if len(images) != len(labels):
        raise ValueError(f"load_mnist: {len(images)} images but {len(labels)} labels in {root}")
    return (normalize_images(images) if normalize else images), labels
