"""Less travelled paths of the data utilities and of checkpoint files.

- Dataset, Subset, TensorDataset and DataLoader: the errors for bad arguments (the
  exception class PyTorch raises and a message that names the argument and the bad
  value; where this library raises another class than PyTorch, both are accepted).
- tinygrad_bn.save / load: values that cannot be saved, missing folders and folder
  paths, the safetensors package missing, .npy entries of format versions 2.0 and 3.0,
  archives with extra entries, and the clean-up of temporary files left by dead
  processes when a folder cannot be read, a stale name cannot be removed, or its
  process belongs to another user.
"""
import io
import json
import os
import sys
import zipfile

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import serialization
from tinygrad_bn.data import DataLoader, Dataset, Subset, TensorDataset, random_split

# ------------------------------------------------------------------------------- datasets

def test_the_dataset_base_class_asks_for_getitem_and_len():
    class Empty(Dataset):
        pass

    with pytest.raises(NotImplementedError, match="Empty has no __getitem__; define one in the subclass"):
        Empty()[0]
    # PyTorch's Dataset has no __len__ at all: len() is a TypeError there
    with pytest.raises((NotImplementedError, TypeError), match="Empty has no __len__; define one in the subclass"):
        len(Empty())


@pytest.mark.parametrize("index", [5, -6])
def test_subset_refuses_an_index_out_of_range_when_made(index):
    with pytest.raises(IndexError, match=rf"Subset: index {index} is out of range for a dataset of 5 items; "
                                         r"expected indices in \[-5, 5\)"):
        Subset(list(range(5)), [0, index])


def test_subset_takes_the_edge_indices():
    assert [Subset(list(range(5)), [4, -5])[i] for i in range(2)] == [4, 0]


def test_tensor_dataset_needs_at_least_one_tensor():
    with pytest.raises(ValueError, match="TensorDataset: expected at least one tensor, got no tensors"):
        TensorDataset()


def test_tensor_dataset_arguments_must_be_tensors_or_arrays():
    with pytest.raises(TypeError, match=r"TensorDataset: argument 1 must be a Tensor \(or NumPy array\), got list"):
        TensorDataset(tg.zeros(2), [1, 2])


@pytest.mark.parametrize("bad", [tg.tensor(1.0), np.array(2.0)], ids=["tensor", "array"])
def test_tensor_dataset_arguments_need_a_first_dim(bad):
    # PyTorch raises IndexError (size(0) of a 0-d tensor)
    with pytest.raises((ValueError, IndexError), match=r"TensorDataset: argument 1 has shape \(\); expected a first dim"):
        TensorDataset(tg.zeros(3), bad)


@pytest.mark.parametrize("index", [3, -4, 4, 1000, np.int64(3), np.int32(-5)])
def test_tensor_dataset_index_out_of_range(index):
    ds = TensorDataset(tg.zeros(3), np.arange(3))
    with pytest.raises(IndexError, match=rf"TensorDataset: index {index} is out of range for 3 items; "
                                         r"expected \[-3, 3\)"):
        ds[index]
    assert int(ds[-3][1].item()) == 0 and int(ds[2][1].item()) == 2


def test_data_loader_wants_a_dataset():
    with pytest.raises(TypeError, match=r"DataLoader: expected a dataset \(an object with __len__ and __getitem__.* got int"):
        DataLoader(3)


class _LengthOnly:
    def __len__(self):
        return 2


class _ItemsOnly:
    def __getitem__(self, i):
        return i


@pytest.mark.parametrize("dataset", [_LengthOnly(), _ItemsOnly(), {1, 2}, "ab", b"ab"],
                         ids=["len only", "getitem only", "set", "str", "bytes"])
def test_each_data_entry_point_wants_both_len_and_getitem(dataset):
    """A map-style dataset needs both methods; half of one (or a string, which
    has both but is text) is refused at once, with the type's name."""
    name = type(dataset).__name__
    for who, make in (("DataLoader", lambda: DataLoader(dataset)),
                      ("random_split", lambda: random_split(dataset, [1, 1])),
                      ("Subset", lambda: Subset(dataset, [0]))):
        with pytest.raises(TypeError, match=rf"{who}: expected a dataset .* got {name}"):
            make()


def test_data_loader_items_must_have_the_same_number_of_fields():
    loader = DataLoader([(1, 2), (3,)], batch_size=2)
    # PyTorch raises RuntimeError ("each element in list of batch should be of equal size")
    with pytest.raises((ValueError, RuntimeError), match=r"items have different numbers of fields \(\[1, 2\]\)"):
        list(loader)


@pytest.mark.parametrize("name", ["sampler", "batch_sampler"])
def test_data_loader_samplers_must_be_iterable(name):
    with pytest.raises(TypeError, match=f"DataLoader: {name} must be an iterable of indices, got int"):
        DataLoader([1, 2], **{name: 3})


@pytest.mark.parametrize("name", ["collate_fn", "worker_init_fn"])
def test_data_loader_functions_must_be_callable(name):
    with pytest.raises(TypeError, match=f"DataLoader: {name} must be a function or None, got int"):
        DataLoader([1, 2], **{name: 3})


@pytest.mark.parametrize("value", [-1, -3])
def test_data_loader_num_workers_must_be_a_non_negative_int(value):
    with pytest.raises(ValueError, match=f"DataLoader: num_workers must be an int >= 0, got {value!r}"):
        DataLoader([1, 2], num_workers=value)


@pytest.mark.parametrize("value", [-1, -0.5])
def test_data_loader_timeout_must_be_a_non_negative_number(value):
    with pytest.raises(ValueError, match=f"DataLoader: timeout must be a number >= 0, got {value!r}"):
        DataLoader([1, 2], timeout=value)


def test_data_loader_takes_zero_workers_and_a_zero_timeout():
    batches = list(DataLoader([1, 2, 3], batch_size=2, num_workers=0, timeout=0))
    assert [b.tolist() for b in batches] == [[1, 2], [3]]


# ------------------------------------------------------------------------ save: bad values

def test_save_refuses_an_array_that_is_not_numeric(tmp_path):
    with pytest.raises(TypeError, match=r"save: array at top level\['names'\] has dtype <U1; only numeric arrays"):
        tg.save({"names": np.array(["a", "b"])}, tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()


def test_save_refuses_a_dict_key_that_is_not_str_or_int(tmp_path):
    with pytest.raises(TypeError, match=r"save: dict key \(1, 2\) at top level\['opt'\] must be a str or int"):
        tg.save({"opt": {(1, 2): 3}}, tmp_path / "c.npz")


def test_save_to_a_missing_folder_names_the_folder(tmp_path):
    path = tmp_path / "nope" / "c.npz"
    with pytest.raises(FileNotFoundError, match=f"save: no such folder: {tmp_path / 'nope'}; create it first"):
        tg.save({"w": tg.zeros(1)}, path)


def test_save_to_a_folder_path_is_a_directory_error(tmp_path):
    with pytest.raises(IsADirectoryError, match=f"save: {tmp_path} is a folder; expected a file path such as "
                                                f"{tmp_path}/model.npz"):
        tg.save({"w": tg.zeros(1)}, tmp_path)


def test_safetensors_keys_must_be_strings(tmp_path):
    pytest.importorskip("safetensors")
    with pytest.raises(TypeError, match="save: .safetensors keys must be strings, got 3"):
        tg.save({3: tg.zeros(1)}, tmp_path / "w.safetensors")


@pytest.mark.parametrize("call", ["save", "load"])
def test_safetensors_without_the_package_says_how_to_install_it(tmp_path, monkeypatch, call):
    path = tmp_path / "w.safetensors"
    if call == "load":
        path.write_bytes(b"{}")
    # None in sys.modules makes the import fail, as if the package were not installed
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match=rf"{call}: .safetensors files need the safetensors package "
                                          r"\(pip install 'tinygrad_bn\[safetensors\]'\)"):
        tg.save({"w": tg.zeros(1)}, path) if call == "save" else tg.load(path)


# ------------------------------------------------------------------- load: the npz entries

def _checkpoint_with_entry(tmp_path, values, rewrite_t0=None, extra_first=None):
    """A checkpoint of {"w": values}; its t0.npy entry rewritten by ``rewrite_t0(array)``
    (the new entry's bytes), and an entry ``extra_first`` = (name, bytes) put before the others."""
    good = tmp_path / "good.npz"
    tg.save({"w": tg.tensor(values)}, good)
    with zipfile.ZipFile(good) as z:
        entries = [(info.filename, z.read(info)) for info in z.infolist()]
    out = tmp_path / "edited.npz"
    with zipfile.ZipFile(out, "w") as z:
        if extra_first is not None:
            z.writestr(*extra_first)
        for name, raw in entries:
            if name == "t0.npy" and rewrite_t0 is not None:
                raw = rewrite_t0(np.asarray(values))
            z.writestr(name, raw)
    return out


def _npy(array, version):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=version)
    return buf.getvalue()


@pytest.mark.parametrize("version", [(1, 0), (2, 0)])
def test_load_reads_npy_entries_of_versions_1_and_2(tmp_path, version):
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    path = _checkpoint_with_entry(tmp_path, values, rewrite_t0=lambda a: _npy(a, version))
    with zipfile.ZipFile(path) as z, z.open("t0.npy") as f:
        assert np.lib.format.read_magic(f) == version  # the entry is of that version
    loaded = tg.load(path)
    assert loaded["w"].dtype == tg.float32
    np.testing.assert_array_equal(loaded["w"].numpy(), values)


def test_load_checks_the_size_of_a_version_2_entry(tmp_path):
    values = np.arange(6, dtype=np.float32)
    path = _checkpoint_with_entry(tmp_path, values, rewrite_t0=lambda a: _npy(a, (2, 0))[:-4])
    with pytest.raises(ValueError, match=r"edited.npz is damaged: entry 't0.npy' declares a float32 array of shape "
                                         r"\(6,\)"):
        tg.load(path)


def test_load_refuses_an_npy_entry_of_version_3(tmp_path):
    path = _checkpoint_with_entry(tmp_path, np.zeros(2, dtype=np.float32), rewrite_t0=lambda a: _npy(a, (3, 0)))
    with pytest.raises(ValueError, match=r"entry 't0.npy' is an .npy version \(3, 0\) array; save writes versions "
                                         r"1.0 and 2.0 only"):
        tg.load(path)


def test_load_skips_entries_that_are_not_arrays(tmp_path):
    values = np.array([1.5, 2.5], dtype=np.float32)
    path = _checkpoint_with_entry(tmp_path, values, extra_first=("README.txt", b"notes"))
    np.testing.assert_array_equal(tg.load(path)["w"].numpy(), values)


def test_load_checks_the_arrays_after_an_entry_that_is_not_one(tmp_path):
    path = _checkpoint_with_entry(tmp_path, np.zeros(4, dtype=np.float32),
                                  rewrite_t0=lambda a: _npy(a, (1, 0))[:-1], extra_first=("README.txt", b"notes"))
    with pytest.raises(ValueError, match="edited.npz is damaged: entry 't0.npy'"):
        tg.load(path)


def test_load_refuses_an_unknown_kind_of_entry_in_the_description(tmp_path):
    path = tmp_path / "odd.npz"
    meta = json.dumps({"format": "tinygrad_bn.checkpoint", "version": 1, "tree": {"set": [1], "frozen": 2}})
    np.savez(path, __tinygrad_bn__=np.frombuffer(meta.encode(), dtype=np.uint8))
    with pytest.raises(ValueError, match=r"odd.npz is not a readable tinygrad_bn checkpoint "
                                         r"\(unknown entry \['frozen', 'set'\]\)"):
        tg.load(path)


# ----------------------------------------------------------- save: stale temporary files

# Linux process ids stay below pid_max, at most 2**22: no process can have this one
DEAD_PID = 2**22 + 1


def test_removing_stale_temporaries_of_an_unreadable_folder_does_nothing(tmp_path):
    assert serialization.remove_stale_temporaries(str(tmp_path / "missing")) is None
    assert not (tmp_path / "missing").exists()


def test_a_stale_name_that_cannot_be_removed_is_left_and_the_save_goes_on(tmp_path):
    # a folder under a dead process's temporary name: unlink fails (an OSError), as when
    # another process removed the file first; the save still writes its checkpoint
    stale = tmp_path / f".tmp-tinygrad_bn-{DEAD_PID}-x.npz"
    stale.mkdir()
    tg.save({"w": tg.ones(2)}, tmp_path / "c.npz")
    assert stale.is_dir()
    np.testing.assert_array_equal(tg.load(tmp_path / "c.npz")["w"].numpy(), [1.0, 1.0])


def test_a_temporary_of_another_users_process_is_kept(tmp_path, monkeypatch):
    pid = DEAD_PID
    stale = tmp_path / f".tmp-tinygrad_bn-{pid}-x.npz"
    stale.write_bytes(b"partial")

    def kill(p, sig):
        assert (p, sig) == (pid, 0)
        raise PermissionError(1, "Operation not permitted")  # the process exists, owned by someone else

    monkeypatch.setattr(os, "kill", kill)
    tg.save({"w": tg.ones(2)}, tmp_path / "c.npz")
    assert stale.read_bytes() == b"partial"
    monkeypatch.undo()
    serialization.remove_stale_temporaries(str(tmp_path))  # the process is gone after all: removed
    assert not stale.exists()
