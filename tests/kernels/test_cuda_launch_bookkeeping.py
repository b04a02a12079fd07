"""kernels/cuda/_common.launch's choice between the direct launch and Numba's, and its
counts of each, with the GPU parts stood in (no GPU here): a registered direct launcher
that takes the arguments is used and counted once, and Numba's launch is not made; one
that declines hands the launch to Numba, counted once, after which a direct launcher is
registered for those argument types. (tests/kernels/test_cuda_direct_launch.py compares
the two launches' results on a GPU.)"""
import pytest

from kernels.cuda import _common as kc


class _Kernel:
    """A stand-in for a Numba CUDA kernel: kernel[grid, block, stream](*args) records the call."""

    def __init__(self):
        self.calls = []

    def __getitem__(self, config):
        return lambda *args: self.calls.append((config, args))


class _Direct:
    def __init__(self, takes):
        self.takes, self.calls = takes, []

    def launch(self, grid, block, stream, args):
        self.calls.append((grid, block, stream, args))
        return self.takes


@pytest.fixture
def gpu_parts(monkeypatch):
    monkeypatch.setattr(kc, "_SIMULATED", False)
    monkeypatch.setattr(kc, "DIRECT_LAUNCH", True)
    monkeypatch.setattr(kc, "_current_stream", lambda: "stream")
    monkeypatch.setattr(kc, "_direct", {})
    monkeypatch.setattr(kc, "launch_counts", {"direct": 0, "numba": 0})
    monkeypatch.setattr(kc, "_device_arg", lambda a: a)
    registered = []
    monkeypatch.setattr(kc.DirectLaunch, "after_first_launch",
                        staticmethod(lambda kernel, wrapped, args: registered.append(args) or _Direct(True)))
    return registered


def test_a_direct_launcher_that_takes_the_arguments_is_used_once_and_counted_once(gpu_parts):
    kernel, direct = _Kernel(), _Direct(True)
    kc._direct[(kernel, int, float)] = direct
    for n in range(1, 4):
        kc.launch(kernel, 2, 64, 5, 0.5)
        assert kc.launch_counts == {"direct": n, "numba": 0}
    assert direct.calls == [(2, 64, "stream", (5, 0.5))] * 3 and kernel.calls == []


def test_without_a_direct_launcher_numba_launches_counted_once_and_one_is_registered(gpu_parts):
    kernel = _Kernel()
    kc.launch(kernel, 3, 32, 7, 1.5)
    assert kc.launch_counts == {"direct": 0, "numba": 1}
    assert kernel.calls == [((3, 32, "stream"), (7, 1.5))] and gpu_parts == [(7, 1.5)]
    kc.launch(kernel, 3, 32, 8, 2.5)  # the same argument types: the registered launcher now
    assert kc.launch_counts == {"direct": 1, "numba": 1} and len(kernel.calls) == 1


def test_a_direct_launcher_that_declines_hands_the_launch_to_numba(gpu_parts):
    kernel, direct = _Kernel(), _Direct(False)
    kc._direct[(kernel, int)] = direct
    kc.launch(kernel, 1, 32, 4)
    assert kc.launch_counts == {"direct": 0, "numba": 1} and len(direct.calls) == 1
    assert kernel.calls == [((1, 32, "stream"), (4,))] and gpu_parts == []  # it stays registered
