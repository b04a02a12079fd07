"""Grad mode as in PyTorch: per thread, and set_grad_enabled(False) works as a
plain call as well as a context manager and a decorator."""
import threading

import tinygrad_bn as tg


def test_set_grad_enabled_as_a_plain_call_sets_the_mode():
    try:
        tg.set_grad_enabled(False)
        assert not tg.is_grad_enabled()
        assert not (tg.ones(2, requires_grad=True) * 2).requires_grad
        tg.set_grad_enabled(True)
        assert tg.is_grad_enabled()
    finally:
        tg.set_grad_enabled(True)


def test_set_grad_enabled_as_a_block_and_as_a_decorator_restores_the_mode():
    with tg.set_grad_enabled(False):
        assert not tg.is_grad_enabled()
        with tg.set_grad_enabled(True):
            assert tg.is_grad_enabled()
        assert not tg.is_grad_enabled()
    assert tg.is_grad_enabled()

    @tg.set_grad_enabled(False)
    def evaluate():
        return tg.is_grad_enabled()

    assert tg.is_grad_enabled()  # decorating changes nothing
    assert evaluate() is False and tg.is_grad_enabled()
    with tg.no_grad():
        assert evaluate() is False and not tg.is_grad_enabled()


def test_no_grad_in_one_thread_leaves_another_recording():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def evaluation():
        with tg.no_grad():
            seen["eval"] = tg.is_grad_enabled()
            inside.set()
            release.wait(10)

    def fresh_thread():
        seen["fresh"] = tg.is_grad_enabled()

    t = threading.Thread(target=evaluation)
    t.start()
    try:
        assert inside.wait(10)
        # the evaluation thread is inside no_grad now; this thread still records
        w = tg.ones(3, requires_grad=True)
        (w * 2.0).sum().backward()
        assert w.grad is not None and tg.is_grad_enabled()
        f = threading.Thread(target=fresh_thread)
        f.start()
        f.join(10)
    finally:
        release.set()
        t.join(10)
    assert seen == {"eval": False, "fresh": True}
