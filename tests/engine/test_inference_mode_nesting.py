"""inference_mode nested and as a decorator with mode=False: the inner mode holds inside
(inference off and recording on, as PyTorch's guard sets grad mode to not mode), and both
modes come back as they were on the way out (PyTorch's values for the inference flag and
for the grad mode inside and after each block)."""
import tinygrad_bn as tg


def test_inference_mode_false_inside_inference_mode_turns_it_off_until_the_block_ends():
    with tg.inference_mode():
        with tg.inference_mode(False):
            assert not tg.is_inference_mode_enabled() and tg.is_grad_enabled()
            x = tg.ones(2, requires_grad=True)
            assert (x * 2).requires_grad  # recorded again
        assert tg.is_inference_mode_enabled() and not tg.is_grad_enabled()
    assert not tg.is_inference_mode_enabled() and tg.is_grad_enabled()


def test_inference_mode_false_as_a_decorator_keeps_its_mode_for_each_call():
    @tg.inference_mode(False)
    def flag():
        return tg.is_inference_mode_enabled()

    with tg.inference_mode():
        assert flag() is False
        assert flag() is False
        assert tg.is_inference_mode_enabled()


def test_inference_mode_inside_no_grad_leaves_grad_off_afterwards():
    with tg.no_grad():
        with tg.inference_mode():
            assert tg.is_inference_mode_enabled()
        assert not tg.is_grad_enabled() and not tg.is_inference_mode_enabled()
    assert tg.is_grad_enabled()


def test_inference_mode_false_inside_no_grad_records_until_the_block_ends():
    x = tg.ones(2, requires_grad=True)
    with tg.no_grad():
        with tg.inference_mode(False):
            assert tg.is_grad_enabled() and (x * 2).requires_grad
        assert not tg.is_grad_enabled() and not (x * 2).requires_grad
