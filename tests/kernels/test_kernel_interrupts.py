"""Ctrl-C lands between kernel calls, never inside one (kernels/interrupts.py)."""
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest

import kernels.cpu
import kernels.protocol
from kernels import interrupts


@pytest.fixture
def python_default_handler():
    """Start from Python's own SIGINT handler and put back whatever was there."""
    before = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def _kernel_that_is_interrupted(log):
    @interrupts.holds_interrupts
    def kernel(x):
        signal.raise_signal(signal.SIGINT)  # Python runs the handler at the next bytecode: here
        log.append("finished")
        return 2 * x
    return kernel


def test_a_sigint_during_a_kernel_call_is_raised_when_the_call_has_returned(python_default_handler):
    log = []
    kernel = _kernel_that_is_interrupted(log)
    with pytest.raises(KeyboardInterrupt):
        kernel(np.ones(3))
    assert log == ["finished"]
    assert not interrupts._held and interrupts._depth == 0  # nothing left over for the next call
    assert float(interrupts.holds_interrupts(np.sum)(np.ones(4))) == 4.0
    # the next interrupt outside a kernel is raised at once, as Python's handler does
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)
        time.sleep(0)


def test_nested_kernel_calls_raise_once_after_the_outermost(python_default_handler):
    log = []
    inner = _kernel_that_is_interrupted(log)

    @interrupts.holds_interrupts
    def outer():
        inner(np.ones(2))
        log.append("outer finished")

    with pytest.raises(KeyboardInterrupt):
        outer()
    assert log == ["finished", "outer finished"]


def test_a_handler_of_the_users_own_is_left_in_place_and_runs_at_once():
    calls = []

    def mine(signum, frame):
        calls.append(signum)
    before = signal.signal(signal.SIGINT, mine)
    try:
        log = []
        assert float(_kernel_that_is_interrupted(log)(np.ones(1))[0]) == 2.0
        assert calls == [signal.SIGINT] and log == ["finished"]
        assert signal.getsignal(signal.SIGINT) is mine
    finally:
        signal.signal(signal.SIGINT, before)


def test_other_threads_pass_through(python_default_handler):
    seen = []

    @interrupts.holds_interrupts
    def kernel():
        seen.append(interrupts._depth)
    t = threading.Thread(target=kernel)
    t.start()
    t.join()
    assert seen == [0]  # not counted: signal handlers run in the main thread only


def test_every_kernel_entry_holds_interrupts():
    for name in kernels.protocol.NAMES:
        entry = getattr(kernels.cpu, name)
        if callable(entry) and name != "empty_cache":  # empty_cache calls no compiled code
            assert hasattr(entry, "__wrapped__"), name


USER_LOOP = textwrap.dedent("""
    import signal, sys
    # as from a terminal: a shell without job control starts background jobs with Ctrl-C ignored
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import numpy as np
    import tinygrad_bn as tg
    from tinygrad_bn.models import SimpleNetBN
    rng = np.random.default_rng(0)
    tg.manual_seed(0)
    model = SimpleNetBN()
    opt = tg.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = tg.tensor(rng.standard_normal((256, 784)).astype(np.float32))
    y = tg.tensor(rng.integers(0, 10, 256))
    print("ready", flush=True)
    steps = caught = 0

    def train():
        global steps, caught
        while steps < 150:
            try:
                opt.zero_grad()
                tg.nn.functional.cross_entropy(model(x), y).backward()
                opt.step()
                steps += 1
            except KeyboardInterrupt:
                caught += 1

    while True:
        try:
            train()
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the storm may outlast the loop
            break
        except KeyboardInterrupt:
            caught += 1
    print("done", steps, caught, flush=True)
""")


def test_a_user_loop_that_catches_ctrl_c_survives_a_storm_of_sigints(tmp_path):
    """Before kernel calls held SIGINT, half of such runs ended in a SystemError from a
    kernel, a half-refreshed Numba registry or a segfault: each process loads its
    kernels from the cache and unpickles a dtype at every return, inside the storm."""
    script = tmp_path / "loop.py"
    script.write_text(USER_LOOP)
    rng = random.Random(0)
    interrupted = completed = 0
    for run in range(8):
        proc = subprocess.Popen([sys.executable, "-u", str(script)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        proc.stdout.readline()  # "ready": the kernels load during the storm
        end = time.monotonic() + rng.uniform(0.3, 1.5)
        while time.monotonic() < end and proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            time.sleep(rng.uniform(0.0005, 0.02))
        out, err = proc.communicate(timeout=300)
        assert "Error" not in err and proc.returncode in (0, -signal.SIGINT), (run, proc.returncode, err[-3000:])
        if proc.returncode:
            # a KeyboardInterrupt can still land in the script's own bytecode outside its try
            # (the loop's jump back after an except): our handler raised it there, not in a call of ours
            frames = re.findall(r'File "([^"]+)", line', err)
            assert frames[-2:] == [str(script), interrupts.__file__], (run, err[-3000:])
            continue
        completed += 1
        assert "done 150" in out, (run, out)
        interrupted += int(out.split()[-1])
    # the storm did land inside calls of ours and was caught there. How many runs finish depends
    # on the load (under load more interrupts hit the script's own bytecode, which the per-run
    # checks above allow), so no count of finished runs is asserted beyond one
    assert completed >= 1 and interrupted > 0, (completed, interrupted)


@pytest.mark.parametrize("switch", ["no_grad", "enable_grad", "inference_mode"])
def test_a_ctrl_c_at_the_start_of_a_grad_mode_exit_waits_until_the_mode_is_restored(switch, python_default_handler):
    """A SIGINT that arrives as a ``with no_grad():`` block's __exit__ starts is raised at
    its end, after the mode is back: raised at once, it left recording off for good (the
    storm test's training loop then failed with 'does not require grad')."""
    import tinygrad_bn as tg
    from tinygrad_bn.grad_mode import ContextDecorator
    interrupts._enter()  # a kernel call's start puts the holding handler in place of Python's
    interrupts._leave()
    assert signal.getsignal(signal.SIGINT) is interrupts._default_int_handler_between_kernels
    exit_code = ContextDecorator.__exit__.__code__
    previous = sys.gettrace()  # a coverage run's tracer: put back afterwards

    def trace(frame, event, arg):
        if event == "call" and frame.f_code is exit_code:
            sys.settrace(previous)
            # the handler as Python runs it for a SIGINT at __exit__'s first bytecode: with that frame
            signal.getsignal(signal.SIGINT)(signal.SIGINT, frame)
        return None

    before = tg.is_grad_enabled()
    try:
        with pytest.raises(KeyboardInterrupt):
            with getattr(tg, switch)():
                sys.settrace(trace)
    finally:
        sys.settrace(previous)
    assert tg.is_grad_enabled() == before and not tg.is_inference_mode_enabled()
