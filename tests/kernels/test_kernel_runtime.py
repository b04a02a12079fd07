"""Kernel runtime concerns: the on-disk compile cache and the buffer pool."""
import ast
import gc
import importlib
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np

from numba import njit

from kernels.cpu import batchnorm, pool


@njit
def _double_rows(x, out, r0, r1):
    for r in range(r0, r1):
        out[r] = 2 * x[r]


@njit
def _sum_rows(x, s1, s2, r0, r1):
    for r in range(r0, r1):
        s1[0] += x[r]
        s2[0] += 1.0


@njit
def _count_rows(x, block, r0, r1):
    for r in range(r0, r1):
        block[0] += x[r]
        block[1] += 1.0

CALLS = textwrap.dedent("""
    import numpy as np
    from kernels.cpu import batchnorm, double_backward, groupnorm, layernorm
    x = np.random.default_rng(0).standard_normal((4096, 512)).astype(np.float32)  # parallel: 2M values
    for v in (x, x.reshape(4096, 8, 64)):  # (N, C) and (N, C, L): every parallel twin runs
        y, m, var, i = batchnorm.forward_train(v, None, None, 1e-5)
        batchnorm.backward(v, v, m, i, None)
        double_backward.batch_norm_double_backward(v, v, None, v, None, None, m, i, True)
        y, m, i = layernorm.forward(v, None, None, 1e-5, 1)
        layernorm.backward(v, v, m, i, None, 1)
        double_backward.layer_norm_double_backward(v, v, None, v, None, None, m, i, 1)
        y, m, i = groupnorm.forward(v, 4, None, None, 1e-5)
        groupnorm.backward(v, v, 4, m, i, None)
    twins = [getattr(mod, name) for mod in (batchnorm, double_backward, groupnorm, layernorm)
             for name in dir(mod) if name.endswith("_par")]
""")
SECOND_PROCESS = CALLS + textwrap.dedent("""
    print(len(twins), sum(sum(f.stats.cache_misses.values()) for f in twins),
          min(sum(f.stats.cache_hits.values()) for f in twins))
""")


def test_second_process_loads_every_parallel_twin_from_cache_without_compiling():
    # a first process compiles (or loads) them, so the cache is warm; the twins are
    # made by _common.parallel_rows, whose output Numba must cache like any function.
    # Both processes run two Numba threads, whatever this one has: with one, no
    # parallel twin would run.
    env = dict(os.environ, NUMBA_NUM_THREADS="2")
    first = subprocess.run([sys.executable, "-c", CALLS], capture_output=True, text=True, timeout=600, env=env)
    assert first.returncode == 0, first.stderr
    out = subprocess.run([sys.executable, "-c", SECOND_PROCESS], capture_output=True, text=True, timeout=600,
                         env=env)
    assert out.returncode == 0, out.stderr
    twins, misses, fewest_hits = map(int, out.stdout.split())
    assert twins == 17 and misses == 0 and fewest_hits >= 1


def test_a_parallel_twin_runs_its_serial_kernel_on_each_chunk():
    from kernels.cpu import _common
    rows = np.arange(7.0)
    out = np.zeros(7)
    part = np.zeros((3, 2, 1))
    doubling = _common.parallel_rows(_double_rows)
    doubling(rows, out, np.array([0, 2, 5, 7]))
    np.testing.assert_array_equal(out, 2 * rows)
    summing = _common.parallel_rows(_sum_rows, partials=True)
    summing(rows, part, np.array([0, 2, 5, 7]))
    assert part[:, 0, 0].tolist() == [1.0, 9.0, 11.0] and part[:, 1, 0].tolist() == [2.0, 3.0, 2.0]
    assert summing.__name__ == "_sum_rows_par"
    blocks = np.zeros((3, 2))
    counting = _common.parallel_rows(_count_rows, block=True)  # the block keeps its name: blocks[t]
    counting(rows, blocks, np.array([0, 2, 5, 7]))
    assert blocks.tolist() == [[1.0, 2.0], [9.0, 3.0], [11.0, 2.0]]
    assert counting.__name__ == "_count_rows_par"


def test_pool_reuses_buffers_only_after_every_view_is_gone():
    gc.collect()  # buffers of earlier tests' garbage go back to the cache now, not mid-test
    pool.empty_cache()
    a = pool.empty((512, 1024), np.float32)
    a[:] = 1.0
    view = a[::2]
    del a
    gc.collect()
    assert pool.cached_bytes() == 0  # the view still uses the buffer
    b = pool.empty((512, 1024), np.float32)
    b[:] = 5.0
    assert (view == 1.0).all()
    del view
    gc.collect()
    assert pool.cached_bytes() == 512 * 1024 * 4
    c = pool.empty((1024, 512), np.float32)  # same size: reused
    assert pool.cached_bytes() == 0 and c.flags["C_CONTIGUOUS"] and c.flags["WRITEABLE"]
    small = pool.empty((4, 4), np.float64)
    assert small.base is None  # small arrays come from malloc
    pool.empty_cache()


def test_the_pool_takes_buffers_from_min_bytes_up_and_leaves_smaller_ones_to_malloc():
    """MIN_BYTES is the first pooled size: exactly MIN_BYTES comes over an owner
    (and goes back to the cache), one element fewer is a plain array."""
    gc.collect()
    pool.empty_cache()
    at = pool.empty((pool.MIN_BYTES // 8,), np.float64)
    under = pool.empty((pool.MIN_BYTES // 8 - 1,), np.float64)
    assert at.nbytes == pool.MIN_BYTES and at.base is not None
    assert under.base is None
    del at, under
    gc.collect()
    assert pool.cached_bytes() == pool.MIN_BYTES
    pool.empty_cache()


def test_a_buffer_freed_while_the_interpreter_clears_the_pool_module_is_quiet(monkeypatch):
    """At exit the interpreter sets a module's globals to None before the last
    arrays die: freeing a pooled buffer then must not raise (Python would print
    "Exception ignored in _Owner.__del__" after the user's program ended)."""
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    a = pool.empty((512, 1024), np.float32)
    for name in ("_lock", "_free", "_cached", "MAX_CACHED_BYTES"):
        monkeypatch.setattr(pool, name, None)
    del a
    gc.collect()
    assert unraisable == []


def test_kernel_outputs_stay_valid_while_held():
    x = np.random.default_rng(1).standard_normal((2048, 256)).astype(np.float32)
    y1 = batchnorm.forward_train(x, None, None, 1e-5)[0]
    keep = y1.copy()
    for _ in range(3):
        batchnorm.forward_train(x * 2 + 1, None, None, 1e-5)
    np.testing.assert_array_equal(y1, keep)


def test_cached_kernels_go_when_any_source_of_their_folder_changes(tmp_path):
    # kernels call jitted functions from other files, which Numba's cache does not watch
    from kernels.cache_stamp import drop_stale_kernel_cache
    (tmp_path / "a.py").write_text("x = 1\n")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    (cache / "a.k-1.py311.nbi").write_text("")
    (cache / "a.k-1.py311.0.nbc").write_text("")
    assert drop_stale_kernel_cache(str(tmp_path)) == 2  # no stamp yet: nothing cached is trusted
    (cache / "a.k-1.py311.nbi").write_text("")
    assert drop_stale_kernel_cache(str(tmp_path)) == 0  # same sources: the cache stays
    assert (cache / "a.k-1.py311.nbi").exists()
    (tmp_path / "b.py").write_text("y = 2\n")  # another file of the folder changed
    assert drop_stale_kernel_cache(str(tmp_path)) == 1 and not (cache / "a.k-1.py311.nbi").exists()


def test_both_kernel_packages_stamp_their_sources_when_imported():
    import pathlib

    from kernels.cache_stamp import STAMP_NAME, sources_digest
    folders = [pathlib.Path(batchnorm.__file__).parent]
    try:
        from kernels.cuda import _common as cuda_common
        if not cuda_common.simulator():  # the simulator compiles nothing, so has no cache to guard
            folders.append(pathlib.Path(cuda_common.__file__).parent)
    except ImportError:  # numba-cuda not installed
        pass
    for folder in folders:
        assert (folder / "__pycache__" / STAMP_NAME).read_text() == sources_digest(str(folder)), folder


def test_a_buffer_returned_while_the_pool_lock_is_held_does_not_deadlock():
    # the garbage collector can run an owner's __del__ inside empty() on the
    # same thread; with a plain lock that waited forever
    import threading

    from kernels.cpu import pool

    a = pool.empty((pool.MIN_BYTES // 8,), np.float64)
    done = threading.Event()

    def hold_and_free():
        nonlocal a
        with pool._lock:
            del a  # the owner's __del__ takes the lock again, on this thread
        done.set()

    t = threading.Thread(target=hold_and_free, daemon=True)
    t.start()
    t.join(5)
    assert done.is_set()


def test_the_stamp_also_guards_the_cache_numba_uses_under_numba_cache_dir(tmp_path):
    """With NUMBA_CACHE_DIR (a CI cache, a read-only install's per-user cache)
    Numba keeps the kernels outside the folder: the stamp must go there too. A
    child process edits a copy of kernels/ between two runs of group norm,
    whose (N, C) rows call layer norm's row statistics from another file."""
    import shutil
    root = tmp_path / "copy"
    shutil.copytree(pathlib.Path(batchnorm.__file__).parents[1], root / "kernels",
                    ignore=shutil.ignore_patterns("__pycache__"))
    run = textwrap.dedent("""
        import numpy as np
        from kernels.cpu import groupnorm
        print(groupnorm.forward(np.arange(8.0).reshape(2, 4), 2, None, None, 1e-5)[1].ravel().tolist())
    """)
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "numba-cache"), PYTHONPATH=str(root))

    def means():
        out = subprocess.run([sys.executable, "-c", run], capture_output=True, text=True, timeout=600, env=env,
                             cwd=root)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert means() == "[0.5, 2.5, 4.5, 6.5]"
    layernorm_py = root / "kernels" / "cpu" / "layernorm.py"
    text = layernorm_py.read_text()
    assert text.count("    m = s1 / width\n") == 1
    layernorm_py.write_text(text.replace("    m = s1 / width\n", "    m = s1 / width + 100.0\n"))
    assert means() == "[100.5, 102.5, 104.5, 106.5]"  # not the cached kernel of the old source


def test_the_cache_folders_skip_a_locator_that_cannot_take_the_probe(tmp_path):
    """A cache locator of another Numba version may want more than the probe
    function: it is passed over and the next one that accepts the folder names
    the second place kernels are cached."""
    from kernels.cache_stamp import cache_folders

    class WantsMore:
        @classmethod
        def from_function(cls, fn, source):
            raise TypeError("from_function() missing 1 required positional argument")

    class Declines:
        @classmethod
        def from_function(cls, fn, source):
            return None

    class Elsewhere:
        @classmethod
        def from_function(cls, fn, source):
            return cls()

        def get_cache_path(self):
            return str(tmp_path / "elsewhere")

    folder = str(tmp_path / "kernels")
    here = str(tmp_path / "kernels" / "__pycache__")
    assert cache_folders(folder, [WantsMore, Declines, Elsewhere]) == [here, str(tmp_path / "elsewhere")]
    assert cache_folders(folder, [WantsMore]) == [here]


def test_every_cpu_kernel_is_compiled_into_the_on_disk_cache():
    """Each @njit / @vectorize in kernels/cpu says cache=True (directly or through its
    module's options dict): without it a fresh process compiles that kernel again,
    seconds each, and no test of results would notice."""
    root = pathlib.Path(__file__).resolve().parents[2]
    seen, uncached = 0, []
    for path in sorted((root / "kernels" / "cpu").glob("*.py")):
        module = importlib.import_module(f"kernels.cpu.{path.stem}")
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                if not (isinstance(dec, ast.Call) and getattr(dec.func, "id", "") in ("njit", "vectorize", "guvectorize")):
                    continue
                options = {}
                for kw in dec.keywords:
                    value = eval(compile(ast.Expression(kw.value), str(path), "eval"), vars(module))
                    options.update(value if kw.arg is None else {kw.arg: value})
                seen += 1
                if options.get("cache") is not True:
                    uncached.append(f"{path.name}:{node.lineno} {node.name}")
    assert seen > 40, seen  # the walk reaches the kernels
    assert not uncached, f"kernels compiled without cache=True: {uncached}"


def test_no_kernel_is_compiled_again_for_a_literal_argument():
    """A compiled caller that passes a literal 0 to another kernel makes Numba type
    it Literal[int](0) and compile that kernel a second time, beside the int64
    copy the parallel twins use: a second or so of compile in every fresh cache."""
    from numba.core.dispatcher import Dispatcher
    from kernels.cpu import batchrenorm, stats
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        for x in (rng.standard_normal((16, 4)).astype(dt), rng.standard_normal((8, 4, 3)).astype(dt)):
            y, mean, var, invstd = batchnorm.forward_train(x, None, None, 1e-5)  # the small, one-call paths
            batchnorm.backward(x, y, mean, invstd, None)
            rm, rv = np.zeros(4), np.ones(4)
            batchrenorm.forward_train(x, None, None, rm, rv, 1e-5, 3.0, 5.0)
            stats.summarize(x)
    literal = []
    for path in sorted((pathlib.Path(batchnorm.__file__).parent).glob("*.py")):
        module = importlib.import_module(f"kernels.cpu.{path.stem}")
        for name, kernel in vars(module).items():
            if isinstance(kernel, Dispatcher) and name != "_bessel_i":  # its order picks a series: literal on purpose
                literal += [f"{path.stem}.{name}{sig}" for sig in kernel.signatures if "Literal" in str(sig)]
    assert not literal, literal
