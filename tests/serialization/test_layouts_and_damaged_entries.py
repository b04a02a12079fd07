"""save / load with every memory layout and byte order an array can have, in both
formats (.npz checkpoints and .safetensors files), and entries that hold fewer or
more bytes than their header declares.

A .safetensors file holds C-order little-endian bytes: writing a transposed,
strided, reversed or big-endian array must give the very file its C-order
native copy gives. An .npz entry holds exactly the bytes its .npy header
declares: load refuses one cut short and one with bytes added alike."""
import zipfile

import numpy as np
import pytest

import tinygrad_bn as tg

_rng = np.random.default_rng(4)

ARRAYS = {
    "transposed": np.arange(12, dtype=np.float32).reshape(3, 4).T,
    "strided": np.arange(40, dtype=np.float64).reshape(5, 8)[::2, 1::3],
    "reversed": np.arange(7, dtype=np.int64)[::-1],
    "fortran order": np.asfortranarray(_rng.standard_normal((3, 5)).astype(np.float32)),
    "a column of a matrix": _rng.standard_normal((4, 6))[:, 2],
    "big-endian": np.arange(6, dtype=">f4").reshape(2, 3) / 7,
    "big-endian transposed": (np.arange(6, dtype=">f8").reshape(2, 3) / 3).T,
    "big-endian int strided": np.arange(20, dtype=">i4")[::3],
    "float16": np.array([0.0, -1.5, 6.1e-5, 65504.0, 1e-7, np.inf], dtype=np.float16),
    "float16 transposed": _rng.standard_normal((3, 4)).astype(np.float16).T,
    "big-endian float16": np.array([1.0, -2.5, 3e-3], dtype=">f2"),
    "0-d": np.array(2.5, dtype=np.float32),
    "empty": np.zeros((0, 3), dtype=np.float32),
    "uint8 strided": np.arange(30, dtype=np.uint8).reshape(5, 6)[1::2, ::2],
}


def native(a):
    """The C-order, native-byte-order copy of ``a`` (what a file should hold)."""
    return np.array(a, dtype=a.dtype.newbyteorder("="), order="C")  # (ascontiguousarray makes 0-d 1-d)


def same(got, want):
    """Equal values, and equal dtypes up to byte order (NaN and inf compare as values)."""
    got = np.asarray(got)
    assert got.dtype.newbyteorder("=") == want.dtype.newbyteorder("=") and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", list(ARRAYS))
def test_npz_round_trips_arrays_and_tensors_of_every_layout(tmp_path, name):
    a = ARRAYS[name]
    path = tmp_path / "c.npz"
    tg.save({"array": a, "tensor": tg.tensor(a), "nested": [a]}, path)
    back = tg.load(path)
    assert isinstance(back["array"], np.ndarray) and back["array"].dtype == a.dtype  # as given, byte order too
    same(back["array"], a)
    same(back["nested"][0], a)
    assert isinstance(back["tensor"], tg.Tensor) and back["tensor"].dtype.isnative
    same(back["tensor"].numpy(), a)


@pytest.mark.parametrize("name", list(ARRAYS))
def test_safetensors_files_hold_the_c_order_native_bytes(tmp_path, name):
    pytest.importorskip("safetensors")
    from safetensors.numpy import load_file

    a = ARRAYS[name]
    tg.save({"w": a, "t": tg.tensor(a)}, tmp_path / "given.safetensors")
    tg.save({"w": native(a), "t": tg.tensor(native(a))}, tmp_path / "copy.safetensors")
    assert (tmp_path / "given.safetensors").read_bytes() == (tmp_path / "copy.safetensors").read_bytes()
    back = tg.load(tmp_path / "given.safetensors")
    for k in ("w", "t"):
        assert isinstance(back[k], tg.Tensor) and back[k].dtype.isnative
        same(back[k].numpy(), a)
        same(load_file(str(tmp_path / "given.safetensors"))[k], a)  # what PyTorch's safetensors reads


def _entries(path):
    with zipfile.ZipFile(path) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


def _rewrite(src, dst, name, change):
    with zipfile.ZipFile(dst, "w") as z:
        for entry, raw in _entries(src):
            z.writestr(entry, change(raw) if entry == name else raw)


CHANGES = {"cut by one byte": lambda raw: raw[:-1], "cut by one element": lambda raw: raw[:-8],
           "one byte added": lambda raw: raw + b"\0", "one element added": lambda raw: raw + bytes(8),
           "a kilobyte added": lambda raw: raw + bytes(1024)}


@pytest.mark.parametrize("change", list(CHANGES))
def test_an_npz_entry_holding_other_than_its_declared_bytes_is_refused(tmp_path, change):
    good = tmp_path / "good.npz"
    tg.save({"w": tg.tensor(ARRAYS["strided"]), "steps": np.arange(5, dtype=np.int64)}, good)
    names = [n for n, _ in _entries(good)]
    assert len(names) == 3  # t0, t1 and the description
    for name in names:
        bad = tmp_path / "bad.npz"
        _rewrite(good, bad, name, CHANGES[change])
        with pytest.raises(ValueError, match=rf"bad.npz is damaged: entry '{name}' declares a .* array of shape "
                                             r".* but holds [\d,]+ bytes; expected the two to match"):
            tg.load(bad)
    assert list(tg.load(good)) == ["w", "steps"]


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_safetensors_file_cut_short_or_with_bytes_added_is_refused(tmp_path, change):
    pytest.importorskip("safetensors")
    good = tmp_path / "good.safetensors"
    tg.save({"w": tg.tensor(ARRAYS["transposed"]), "b": tg.zeros(3)}, good)
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(CHANGES[change](good.read_bytes()))
    with pytest.raises(ValueError, match="bad.safetensors is not a readable .safetensors file"):
        tg.load(bad)
