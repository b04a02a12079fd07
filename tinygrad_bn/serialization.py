"""save / load: state dicts (nested dicts and lists of tensors, arrays and plain
values) in an ``.npz`` file, read back with ``allow_pickle=False``.

Layout: one array per tensor or array (``t0``, ``t1``, ...) plus ``__tinygrad_bn__``,
a JSON document (stored as uint8 bytes) that describes the nesting and names the
arrays. Writing goes to a temporary file in the same folder and is renamed into
place, so a crash never leaves a half-written checkpoint under the real name.
"""
import json
import os
import stat
import tempfile
import zipfile

import numpy as np

from .tensor import Tensor

FORMAT = "tinygrad_bn.checkpoint"
VERSION = 1
_META = "__tinygrad_bn__"


def _encode(obj, arrays, where):
    if isinstance(obj, Tensor):
        arrays.append(obj.detach().cpu().numpy())
        return {"tensor": f"t{len(arrays) - 1}"}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"save: array at {where} has dtype {obj.dtype}; only numeric arrays can be saved")
        arrays.append(obj)
        return {"array": f"t{len(arrays) - 1}"}
    if isinstance(obj, np.generic):  # a NumPy scalar: stored as the plain value it holds
        if obj.dtype.kind not in "biufU":
            raise TypeError(f"save: a NumPy {obj.dtype} scalar at {where} cannot be saved; "
                            "save numbers, strings, tensors or numeric arrays")
        return {"value": obj.item()}
    if isinstance(obj, dict):
        items = []
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"save: dict key {k!r} at {where} must be a str or int")
            items.append([k, _encode(v, arrays, f"{where}[{k!r}]")])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        return {"list" if isinstance(obj, list) else "tuple":
                [_encode(v, arrays, f"{where}[{i}]") for i, v in enumerate(obj)]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    raise TypeError(
        f"save: cannot save a {type(obj).__name__} at {where}; save tensors, arrays, numbers, "
        "strings and dicts or lists of them (a state_dict())"
    )


def _decode(node, files):
    if not isinstance(node, dict):
        raise ValueError(f"malformed entry {node!r:.60}")
    if "tensor" in node:
        return Tensor(files[node["tensor"]])
    if "array" in node:
        return np.array(files[node["array"]])
    if "dict" in node:
        return {k: _decode(v, files) for k, v in node["dict"]}
    if "list" in node:
        return [_decode(v, files) for v in node["list"]]
    if "tuple" in node:
        return tuple(_decode(v, files) for v in node["tuple"])
    if "value" in node:
        return node["value"]
    raise ValueError(f"unknown entry {sorted(node)}")


def _safetensors_numpy(who):
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(f"{who}: .safetensors files need the safetensors package "
                          "(pip install 'tinygrad_bn[safetensors]')") from None
    return safetensors.numpy


def _is_safetensors(path):
    return os.fspath(path).endswith(".safetensors")


def _save_safetensors(obj, path):
    """A flat dict of tensors (a state dict) as a .safetensors file, the format
    PyTorch's and other frameworks' weights move in."""
    if not isinstance(obj, dict):
        raise TypeError(f"save: a .safetensors file holds a flat dict of tensors (a state_dict()), "
                        f"got {type(obj).__name__}; expected a dict")
    arrays = {}
    for k, v in obj.items():
        if not isinstance(k, str):
            raise TypeError(f"save: .safetensors keys must be strings, got {k!r}")
        if k == "__metadata__":
            raise ValueError("save: '__metadata__' is the safetensors header's own key and cannot name a tensor; "
                             "rename the entry")
        if isinstance(v, Tensor):
            v = v.detach().cpu().numpy()
        if not isinstance(v, np.ndarray) or v.dtype.kind not in "biuf":
            raise TypeError(f"save: {k!r} is a {type(v).__name__}; a .safetensors file holds only tensors "
                            "and numeric arrays (save other values in an .npz checkpoint)")
        arrays[k] = v if v.flags.c_contiguous else v.copy(order="C")  # (ascontiguousarray makes 0-d 1-d)
    data = _safetensors_numpy("save").save(arrays)  # the file's bytes
    _write_atomically(path, ".safetensors", lambda f: f.write(data))


def _load_safetensors(path):
    st = _safetensors_numpy("load")
    try:
        arrays = st.load_file(path)
    except Exception as exc:  # the package raises its own error types for damaged files
        raise ValueError(f"load: {path} is not a readable .safetensors file ({type(exc).__name__}: {exc})") from None
    return {k: Tensor(v) for k, v in arrays.items()}


def save(obj, path):
    """Write ``obj`` (typically ``model.state_dict()``) to ``path`` atomically:
    an .npz checkpoint, or for a path ending in ``.safetensors`` a safetensors
    file (a flat dict of tensors only), which PyTorch reads with
    ``safetensors.torch.load_file``."""
    if _is_safetensors(path):
        return _save_safetensors(obj, path)
    arrays = []
    tree = _encode(obj, arrays, "top level")
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree}).encode()
    payload = {f"t{i}": a for i, a in enumerate(arrays)}
    payload[_META] = np.frombuffer(meta, dtype=np.uint8)
    _write_atomically(path, ".npz", lambda f: np.savez(f, **payload))


def _write_atomically(path, suffix, write):
    """``write(f)`` into a temporary file beside ``path``, then rename it into
    place: a crash never leaves a half-written file under the real name. The
    file keeps the mode of the one it replaces (a new one gets the usual
    0666 & ~umask); temporary files of ours left by a killed process are
    removed on the way (their names hold the process id, checked not alive)."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: no such folder: {folder}; create it first (expected the folder of "
                                f"{path} to exist)")
    if os.path.isdir(path):
        raise IsADirectoryError(f"save: {path} is a folder; expected a file path such as {path}/model.npz")
    remove_stale_temporaries(folder)
    fd, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        _name_the_file(exc, path)
        raise


def _name_the_file(exc, path):
    """A failed write (a full disk) says which file it was writing: OSErrors from
    ``write`` carry no file name of their own."""
    if isinstance(exc, OSError) and exc.filename is None:
        exc.filename = os.fspath(path)


_TMP_PREFIX = ".tmp-tinygrad_bn-"


def remove_stale_temporaries(folder):
    """Delete the temporary files a save of ours left in ``folder`` when its
    process died mid-write (SIGKILL, power loss): names ``.tmp-tinygrad_bn-<pid>-*``
    whose process is gone. Files of other programs, and of live processes, stay."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if not name.startswith(_TMP_PREFIX):
            continue
        pid = name[len(_TMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass  # another process removed it first


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def _mode_for(path):
    """The permission bits a file written to ``path`` should have."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask():
    # read, not set-and-restore: os.umask would change it for every thread meanwhile
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


# save() stores every entry uncompressed. A compressed entry is read only while
# it claims at most this many times its compressed size (deflate reaches about
# 1000:1 on zeros) or is small, so a few MB cannot unpack into gigabytes.
_MAX_COMPRESSION_RATIO = 100
_SMALL_ENTRY_BYTES = 64 << 20


def _check_entry_sizes(path, archive):
    """Refuse, before anything is unpacked or allocated, an entry that claims
    far more bytes than it occupies, or an array header whose shape and dtype
    need more (or fewer) bytes than its entry holds."""
    for info in archive.infolist():
        name = info.filename
        if (info.compress_type != zipfile.ZIP_STORED and info.file_size > _SMALL_ENTRY_BYTES
                and info.file_size > _MAX_COMPRESSION_RATIO * max(info.compress_size, 1)):
            raise ValueError(
                f"load: {path} is not a tinygrad_bn checkpoint: entry {name!r} would unpack "
                f"{info.file_size:,} bytes from {info.compress_size:,} (ratio over "
                f"{_MAX_COMPRESSION_RATIO}:1); save writes entries uncompressed, so this file "
                "was written or recompressed elsewhere"
            )
        if not name.endswith(".npy"):
            continue
        with archive.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"load: {path}: entry {name!r} is an .npy version {version} array; "
                                 "save writes versions 1.0 and 2.0 only")
            if dtype.hasobject:
                raise ValueError(f"load: {path}: entry {name!r} holds Python objects (a pickle), which load "
                                 "does not read; expected numeric arrays, as save writes")
            needed = int(np.prod(shape, dtype=object)) * dtype.itemsize + f.tell()
        if needed != info.file_size:
            raise ValueError(
                f"load: {path} is damaged: entry {name!r} declares a {dtype} array of shape "
                f"{shape} ({needed:,} bytes with its header) but holds {info.file_size:,} bytes; expected "
                "the two to match (the file is truncated or was edited)"
            )


def load(path):
    """Read what ``save`` wrote (or any .safetensors file: a dict of tensors).
    Tensors come back as tensors, arrays as arrays.
    Raises ValueError naming the file when it is not a tinygrad_bn checkpoint or
    is damaged."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    if not os.path.isfile(path):  # a FIFO or device would block the read, a folder fail obscurely
        raise ValueError(f"load: {path} is not a regular file; give the path of a checkpoint written by save")
    if _is_safetensors(path):
        return _load_safetensors(path)
    try:
        with zipfile.ZipFile(path) as archive:
            _check_entry_sizes(path, archive)
        with np.load(path, allow_pickle=False) as files:
            if _META not in files.files:
                raise ValueError(
                    f"load: {path} is an npz file but not a tinygrad_bn checkpoint "
                    f"(no {_META} entry); write checkpoints with tinygrad_bn.save"
                )
            meta = json.loads(bytes(files[_META]).decode())
            if meta.get("format") != FORMAT:
                raise ValueError(f"load: {path} has format {meta.get('format')!r}, expected {FORMAT!r}")
            if meta.get("version", 0) > VERSION:
                raise ValueError(
                    f"load: {path} was written by a newer tinygrad_bn (format version "
                    f"{meta.get('version')}, this one reads up to {VERSION}); expected version <= {VERSION}, "
                    "so upgrade tinygrad_bn"
                )
            data = {k: files[k] for k in files.files if k != _META}
            return _decode(meta["tree"], data)
    except ValueError as exc:
        if str(exc).startswith("load:"):
            raise
        raise ValueError(f"load: {path} is not a readable tinygrad_bn checkpoint ({exc})") from None
    except (zipfile.BadZipFile, OSError, EOFError, KeyError, json.JSONDecodeError, UnicodeDecodeError,
            TypeError, RecursionError) as exc:
        raise ValueError(
            f"load: {path} is not a readable tinygrad_bn checkpoint: it is truncated, damaged or "
            f"not an npz file ({type(exc).__name__}: {exc})"
        ) from None
