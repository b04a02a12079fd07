"""kernels.cpu and kernels.cuda are twins: each exports every name of the
kernel protocol (kernels/protocol.py) at its top level, the functions with
the same signature in both and the parameter names the protocol writes."""
import importlib
import inspect

import pytest

import kernels.cpu
from kernels.protocol import NAMES, NormKernels

# Importing kernels.cuda compiles nothing (kernels compile on first launch), so
# this needs numba-cuda but neither a GPU nor the simulator.
cuda_kernels = pytest.importorskip("kernels.cuda", reason="numba-cuda is not installed")

FUNCTIONS = [n for n in NAMES if n not in NormKernels.__annotations__]


def test_the_protocol_names_its_functions_and_the_kernel_modules():
    assert {"batch_norm_train", "layer_norm_backward", "group_norm", "rms_norm", "rms_norm_backward", "batch_renorm_train",
            "batch_renorm_backward", "summarize",
            "empty_cache"} <= set(FUNCTIONS)
    assert "KERNEL_MODULES" in NAMES


@pytest.mark.parametrize("name", FUNCTIONS)
def test_both_packages_export_each_protocol_function_with_one_signature(name):
    cpu, cuda = getattr(kernels.cpu, name), getattr(cuda_kernels, name)
    assert callable(cpu) and callable(cuda)
    assert inspect.signature(cpu) == inspect.signature(cuda)
    written = inspect.signature(getattr(NormKernels, name))
    assert list(inspect.signature(cpu).parameters) == list(written.parameters)


def test_both_packages_map_the_same_ops_to_kernel_modules_of_their_own():
    cpu, cuda = kernels.cpu.KERNEL_MODULES, cuda_kernels.KERNEL_MODULES
    assert set(cpu) == set(cuda) == {"batch_norm", "layer_norm", "group_norm", "rms_norm", "batch_renorm"}
    for op in cpu:
        assert cpu[op].startswith("kernels.cpu.") and cuda[op].startswith("kernels.cuda.")
        assert cpu[op].rsplit(".", 1)[1] == cuda[op].rsplit(".", 1)[1]  # the same file name on both sides
        assert importlib.import_module(cpu[op]) and importlib.import_module(cuda[op])


def test_launch_arithmetic_helpers():
    """Block sizes come from these: a power of two too big for the count would leave
    threads reading past the data or a reduction summing a slot no thread wrote."""
    from kernels.cuda._common import cdiv, pow2_at_most
    assert [pow2_at_most(n) for n in (1, 2, 3, 4, 5, 255, 256, 1023)] == [1, 2, 2, 4, 4, 128, 256, 512]
    assert pow2_at_most(0) == 1  # at least one thread
    assert [cdiv(a, 4) for a in (0, 1, 4, 5, 8, 9)] == [0, 1, 1, 2, 2, 3]


def test_one_thread_per_item_kernels_launch_whole_warps_covering_every_item(monkeypatch):
    """A block of a thread count that is not a multiple of 32 leaves part of a warp
    idle in every block; the grid must still reach the last item."""
    from kernels.cuda import _common
    launched = []
    monkeypatch.setattr(_common, "launch", lambda kernel, grid, block, *args: launched.append((grid, block)))
    for count in (1, 127, 128, 129, 5000):
        _common.launch_per_item(None, count)
        grid, block = launched[-1]
        assert block % 32 == 0 and block <= _common.LAUNCH.threads and grid * block >= count > (grid - 1) * block


def test_grid_stride_kernels_aim_for_blocks_per_sm_blocks_on_every_multiprocessor(monkeypatch):
    """A grid-stride kernel over more rows than it needs blocks for launches
    blocks_per_sm (4) blocks per SM: on a 132-SM H100, 528; fewer rows, fewer blocks."""
    from kernels.cuda import layernorm
    from kernels.cuda._common import LAUNCH
    monkeypatch.setattr(LAUNCH, "sm_count", 132)
    assert LAUNCH.target_blocks() == 4 * 132
    assert layernorm.row_grid(10**6, 4) == 528 and layernorm.row_grid(100, 4) == 25 and layernorm.row_grid(0, 4) == 1
