"""save / load round trips and damaged files."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn.models import SimpleNet


def test_state_dict_round_trip(tmp_path):
    model = SimpleNet()
    path = tmp_path / "m.npz"
    tg.save(model.state_dict(), path)
    loaded = tg.load(path)
    assert list(loaded) == list(model.state_dict())
    other = SimpleNet()
    other.load_state_dict(loaded)
    x = tg.randn(3, 784)
    np.testing.assert_array_equal(model(x).detach().numpy(), other(x).detach().numpy())
    assert not list(tmp_path.glob(".tmp-*"))  # the temporary file was renamed away


def test_nested_values_round_trip(tmp_path):
    opt = tg.optim.SGD([tg.zeros(3, requires_grad=True)], lr=0.1, momentum=0.9)
    obj = {"epoch": 3, "name": "run", "ratio": 0.5, "flags": [True, None], "shape": (2, 3),
           "array": np.arange(4), "optim": opt.state_dict()}
    tg.save(obj, tmp_path / "c.npz")
    back = tg.load(tmp_path / "c.npz")
    assert back["epoch"] == 3 and back["name"] == "run" and back["flags"] == [True, None]
    assert back["shape"] == (2, 3)
    np.testing.assert_array_equal(back["array"], np.arange(4))
    assert back["optim"]["param_groups"][0]["momentum"] == 0.9


def test_unsupported_values_raise(tmp_path):
    with pytest.raises(TypeError, match="cannot save a object"):
        tg.save({"x": object()}, tmp_path / "x.npz")
    assert not (tmp_path / "x.npz").exists()


def test_truncated_and_foreign_files_raise_clearly(tmp_path):
    path = tmp_path / "m.npz"
    tg.save(SimpleNet().state_dict(), path)
    data = path.read_bytes()
    (tmp_path / "trunc.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="trunc.npz is not a readable tinygrad_bn checkpoint"):
        tg.load(tmp_path / "trunc.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a readable"):
        tg.load(tmp_path / "text.npz")
    np.savez(tmp_path / "foreign.npz", a=np.zeros(2))
    with pytest.raises(ValueError, match="not a tinygrad_bn checkpoint"):
        tg.load(tmp_path / "foreign.npz")
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "missing.npz")


def test_pickled_npz_is_refused(tmp_path):
    np.savez(tmp_path / "p.npz", __tinygrad_bn__=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"'__tinygrad_bn__.npy' holds Python objects \(a pickle\), which load does not read"):
        tg.load(tmp_path / "p.npz")
    # an object array that is no checkpoint's metadata is refused by its header too
    np.savez(tmp_path / "q.npz", __tinygrad_bn__=np.frombuffer(b'{"format": "tinygrad_bn.checkpoint", "version": 1, '
                                                               b'"tree": {"array": "t0"}}', np.uint8),
             t0=np.array([{"evil": 1}], dtype=object))
    with pytest.raises(ValueError, match="'t0.npy' holds Python objects"):
        tg.load(tmp_path / "q.npz")


def test_pickles_are_refused_even_past_the_header_check(tmp_path, monkeypatch):
    """Two guards: the header check refuses object entries, and np.load runs with
    allow_pickle=False behind it, so losing one guard still loads no pickle."""
    import tinygrad_bn.serialization as S

    np.savez(tmp_path / "p.npz", __tinygrad_bn__=np.frombuffer(b'{"format": "tinygrad_bn.checkpoint", "version": 1, '
                                                               b'"tree": {"array": "t0"}}', np.uint8),
             t0=np.array([{"evil": 1}], dtype=object))
    monkeypatch.setattr(S, "_check_entry_sizes", lambda path, archive: None)
    with pytest.raises(ValueError, match="not a readable tinygrad_bn checkpoint.*allow_pickle"):
        tg.load(tmp_path / "p.npz")


@pytest.mark.parametrize("suffix", [".npz", ".safetensors"])
def test_a_failed_write_leaves_the_old_checkpoint_whole(tmp_path, monkeypatch, suffix):
    import tinygrad_bn.serialization as S

    path = tmp_path / ("m" + suffix)
    tg.save({"w": tg.ones(3)}, path)
    before = path.read_bytes()

    def half_then_fail(f):
        f.write(b"PK\x03\x04 half a file")
        raise OSError(28, "No space left on device")

    real = S._write_atomically
    monkeypatch.setattr(S, "_write_atomically", lambda p, sfx, write: real(p, sfx, half_then_fail))
    with pytest.raises(OSError, match="No space left") as info:
        tg.save({"w": tg.zeros(3)}, path)
    assert info.value.filename == str(path)  # the write's error names the file it was writing
    assert path.read_bytes() == before  # the old checkpoint, not half of the new one
    assert not list(tmp_path.glob(".tmp-*"))  # and no temporary file left behind
    assert tg.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_numpy_scalars_round_trip_as_plain_values(tmp_path):
    path = tmp_path / "metrics.npz"
    tg.save({"acc": np.float64(0.9), "steps": [np.int64(3), 1.5], "ok": np.bool_(True), "tag": np.str_("a")}, path)
    assert tg.load(path) == {"acc": 0.9, "steps": [3, 1.5], "ok": True, "tag": "a"}
    with pytest.raises(TypeError, match="NumPy datetime64"):
        tg.save({"t": np.datetime64("2026-01-01")}, tmp_path / "bad.npz")


def _checkpoint_entries(path):
    import zipfile

    with zipfile.ZipFile(path) as z:
        return [(info.filename, z.read(info)) for info in z.infolist()]


def test_a_decompression_bomb_is_refused_before_it_is_unpacked(tmp_path):
    import tracemalloc
    import zipfile

    good = tmp_path / "good.npz"
    tg.save({"w": tg.ones(2)}, good)
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        for name, raw in _checkpoint_entries(good):
            z.writestr(name, raw)
        header = {"descr": "<f4", "fortran_order": False, "shape": (50_000_000,)}  # 200 MB of zeros
        with z.open("t1.npy", "w", force_zip64=True) as f:
            np.lib.format.write_array_header_1_0(f, header)
            chunk = bytes(8 << 20)
            for _ in range(200_000_000 // len(chunk)):
                f.write(chunk)
            f.write(bytes(200_000_000 % len(chunk)))
    assert bomb.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"'t1.npy' would unpack 200,000,\d+ bytes from"):
            tg.load(bomb)
        assert tracemalloc.get_traced_memory()[1] < 20_000_000
    finally:
        tracemalloc.stop()


def test_a_recompressed_checkpoint_still_loads(tmp_path):
    import zipfile

    path = tmp_path / "m.npz"
    tg.save(SimpleNet().state_dict(), path)
    again = tmp_path / "again.npz"
    with zipfile.ZipFile(again, "w", zipfile.ZIP_DEFLATED) as z:
        for name, raw in _checkpoint_entries(path):
            z.writestr(name, raw)
    assert list(tg.load(again)) == list(tg.load(path))


def test_an_array_header_that_claims_more_than_its_entry_holds_is_refused(tmp_path):
    import zipfile

    good = tmp_path / "good.npz"
    tg.save({"w": tg.ones(4)}, good)
    entries = dict(_checkpoint_entries(good))
    raw = entries["t0.npy"].replace(b"(4,)", b"(1000000000000,)")  # 4 TB of float32
    lying = tmp_path / "lying.npz"
    with zipfile.ZipFile(lying, "w") as z:
        for name, data in entries.items():
            z.writestr(name, raw if name == "t0.npy" else data)
    with pytest.raises(ValueError, match=r"damaged: entry 't0.npy' declares a float32 array of shape \(1000000000000,\)"):
        tg.load(lying)


@pytest.mark.parametrize("tree", [[1, 2], {"dict": [[1]]}, 7, {"list": [[]]}, {"dict": "x"}])
def test_malformed_checkpoint_metadata_is_a_clear_error(tmp_path, tree):
    import json

    path = tmp_path / "odd.npz"
    meta = json.dumps({"format": "tinygrad_bn.checkpoint", "version": 1, "tree": tree}).encode()
    np.savez(path, __tinygrad_bn__=np.frombuffer(meta, dtype=np.uint8))
    with pytest.raises(ValueError, match="not a readable tinygrad_bn checkpoint"):
        tg.load(path)


def test_a_safetensors_state_dict_written_for_pytorch_names_loads_into_simplenet_bn(tmp_path):
    from safetensors.numpy import save_file

    from tinygrad_bn.models import SimpleNetBN

    rng = np.random.default_rng(0)
    reference = SimpleNetBN().state_dict()
    # as PyTorch's SimpleNetBN would write it: same names, its own values
    weights = {k: (rng.standard_normal(v.shape).astype(v.numpy().dtype) if v.dtype.kind == "f"
                   else np.array(7, dtype=np.int64)) for k, v in reference.items()}
    path = tmp_path / "from_pytorch.safetensors"
    save_file(weights, str(path))
    model = SimpleNetBN()
    model.load_state_dict(tg.load(path))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), weights[k])
    out = tmp_path / "back.safetensors"
    tg.save(model.state_dict(), out)  # and back, for PyTorch's safetensors.torch.load_file
    from safetensors.numpy import load_file
    assert {k: v.tolist() for k, v in load_file(str(out)).items()} == {k: v.tolist() for k, v in weights.items()}


def test_safetensors_hold_tensors_only(tmp_path):
    with pytest.raises(TypeError, match="'step' is a int; a .safetensors file holds only tensors"):
        tg.save({"w": tg.ones(2), "step": 3}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="flat dict of tensors"):
        tg.save([tg.ones(2)], tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a readable .safetensors file"):
        tg.load(bad)


def test_a_save_removes_only_the_stale_temporary_files_of_dead_processes(tmp_path):
    import os
    import subprocess
    import sys
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".tmp-tinygrad_bn-{dead}-abc.npz"
    live = tmp_path / f".tmp-tinygrad_bn-{os.getppid()}-def.npz"  # a process that is alive
    other = tmp_path / ".tmp-someone-else.npz"
    for f in (stale, live, other):
        f.write_bytes(b"partial")
    tg.save({"w": tg.ones(2)}, tmp_path / "m.npz")
    assert not stale.exists() and live.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name, "m.npz"])


def test_a_save_killed_midway_leaves_a_temporary_file_the_next_save_removes(tmp_path):
    """A real one: a process saving 32 MB over and over is SIGKILLed while its
    temporary file exists (tried again if the kill lands just after a rename)."""
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])  # this checkout's tinygrad_bn
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]))
    saver = ("import sys, numpy as np, tinygrad_bn as tg\n"
             "w = tg.tensor(np.arange(4_000_000, dtype=np.float64))\n"
             "print('saving', flush=True)\n"
             "while True:\n"
             "    tg.save({'w': w}, sys.argv[1])\n")
    path = tmp_path / "m.npz"
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", saver, str(path)], stdout=subprocess.PIPE, text=True, env=env)
        assert proc.stdout.readline() == "saving\n"
        ours = f".tmp-tinygrad_bn-{proc.pid}-"
        deadline = time.monotonic() + 60
        while not any(name.startswith(ours) for name in os.listdir(tmp_path)) and time.monotonic() < deadline:
            time.sleep(0.0002)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        left = [name for name in os.listdir(tmp_path) if name.startswith(ours)]
        if left:
            break
    assert left, "no save was caught midway in 5 tries"
    tg.save({"w": tg.ones(2)}, path)
    assert sorted(os.listdir(tmp_path)) == ["m.npz"]  # the dead process's temporary file is gone
    assert tg.load(path)["w"].tolist() == [1.0, 1.0]


def test_overwriting_keeps_the_files_mode_and_a_new_file_follows_the_umask(tmp_path):
    import os
    import stat
    path = tmp_path / "m.npz"
    tg.save({"w": tg.ones(2)}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    os.chmod(path, 0o640)
    tg.save({"w": tg.zeros(2)}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_where_the_umask_cannot_be_read_a_new_file_gets_the_usual_0o644(tmp_path, monkeypatch):
    """Without /proc/self/status (macOS, a sandbox) the umask is taken as 022."""
    import builtins
    import stat

    from tinygrad_bn import serialization

    def no_proc(path, *args, **kwargs):
        if str(path).startswith("/proc/"):
            raise PermissionError(f"no access to {path}")
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(serialization, "open", no_proc, raising=False)
    path = tmp_path / "m.npz"
    tg.save({"w": tg.ones(2)}, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert tg.load(path)["w"].tolist() == [1.0, 1.0]


def test_safetensors_refuses_the_metadata_key_at_save(tmp_path):
    pytest.importorskip("safetensors")
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match="__metadata__"):
        tg.save({"__metadata__": tg.ones(2), "w": tg.ones(2)}, path)
    assert not path.exists()


@pytest.mark.parametrize(("fmt", "version", "message"), [
    ("other.checkpoint", 1, "has format 'other.checkpoint', expected 'tinygrad_bn.checkpoint'"),  # sorts before ours
    ("zzz.checkpoint", 1, "has format 'zzz.checkpoint'"),  # sorts after
    ("tinygrad_bn.checkpoint2", 1, "has format 'tinygrad_bn.checkpoint2'"),  # ours with more after it
    (None, 1, "has format None"),
    ("tinygrad_bn.checkpoint", 2, "newer tinygrad_bn .format version 2, this one reads up to 1"),
])
def test_a_checkpoint_of_another_format_or_a_newer_version_is_refused_by_name(tmp_path, fmt, version, message):
    """Only our own format string, exactly, and versions up to ours load: an npz with other
    metadata would otherwise be read by rules that were never its own."""
    import json

    path = tmp_path / "other.npz"
    meta = {"version": version, "tree": {"array": "t0"}}
    if fmt is not None:
        meta["format"] = fmt
    np.savez(path, __tinygrad_bn__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), t0=np.arange(3.0))
    with pytest.raises(ValueError, match=message):
        tg.load(path)
    meta.update(format="tinygrad_bn.checkpoint", version=1)  # the same file with our metadata loads
    np.savez(path, __tinygrad_bn__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), t0=np.arange(3.0))
    np.testing.assert_array_equal(np.asarray(tg.load(path)), np.arange(3.0))


def _deflated_size(payload):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("pad.bin", payload)
    with zipfile.ZipFile(buf) as z:
        return z.infolist()[0].compress_size


def test_the_compression_ratio_limit_is_100_to_1(tmp_path, monkeypatch):
    """An entry claiming just over 100 times its compressed size is refused, one at
    just under is read (the size floor lowered so that small entries show it; the
    payloads are found by a search, since deflate's sizes vary with zlib)."""
    import zipfile

    from tinygrad_bn import serialization
    monkeypatch.setattr(serialization, "_SMALL_ENTRY_BYTES", 0)
    head = np.random.default_rng(1).bytes(200)
    found = {}
    for n in range(20000, 60000, 5):
        payload = head + bytes(n)
        ratio = len(payload) / _deflated_size(payload)
        kind = "over" if 100 < ratio <= 101 else "under" if 99 < ratio <= 100 else None
        if kind and kind not in found:
            found[kind] = payload
        if len(found) == 2:
            break
    assert len(found) == 2, "no payload of ratio 99-101 found"
    good = tmp_path / "good.npz"
    tg.save({"w": tg.ones(2)}, good)
    for kind, payload in found.items():
        path = tmp_path / f"{kind}.npz"
        with zipfile.ZipFile(path, "w") as z:
            for name, raw in _checkpoint_entries(good):
                z.writestr(name, raw)
            z.writestr("pad.bin", payload, compress_type=zipfile.ZIP_DEFLATED)
        try:
            tg.load(path)
            error = ""
        except ValueError as e:
            error = str(e)
        assert ("ratio over 100:1" in error) == (kind == "over"), (kind, error)
