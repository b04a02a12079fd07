"""Random numbers: one seeded generator per device, all reset by ``manual_seed``,
and ``Generator`` for a stream of one's own."""
import json
import numbers
import os

from .backends import get_backend, last_seed, seed_all


def _seed_arg(who, seed):
    """seed as a Python int, or a ValueError naming ``who``."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"{who}: expected a non-negative int, got {seed!r}")
    return int(seed)


def manual_seed(seed: int) -> "Generator":
    """Seed the generators behind rand, randn, weight init and dropout on every device; returns
    the CPU's default stream as a ``Generator`` (PyTorch returns its default generator)."""
    seed_all(_seed_arg("manual_seed", seed))
    return _DefaultStream("cpu")


def _entropy_seed():
    """63 bits from the operating system: a seed an int64 holds (a checkpoint's
    dtype) and torch.manual_seed accepts."""
    return int.from_bytes(os.urandom(8), "little") >> 1


def seed() -> int:
    """Seed every device's generators from the operating system's entropy; returns the seed."""
    s = _entropy_seed()
    seed_all(s)
    return s


def initial_seed() -> int:
    """The seed last given to ``manual_seed`` or ``seed`` (0 at start)."""
    return last_seed()


def get_rng_state(device="cpu"):
    """The state of ``device``'s generator as a uint8 tensor (JSON of the bit generator's
    state), for ``set_rng_state``; not PyTorch's byte layout."""
    from .creation import tensor
    from .dtypes import uint8
    generator = get_backend(device).generator
    if not hasattr(generator, "bit_generator"):
        raise RuntimeError(f"get_rng_state: the generator of device '{device}' ({type(generator).__name__}) has no "
                           "state to read; reset it with manual_seed instead")
    state = generator.bit_generator.state
    return tensor(list(json.dumps(state).encode()), dtype=uint8)


def set_rng_state(new_state, device="cpu"):
    """Restore ``device``'s generator to a state from ``get_rng_state``."""
    from .tensor_base import TensorBase
    who = "set_rng_state"
    if not isinstance(new_state, TensorBase) or new_state.ndim != 1 or new_state.dtype.kind != "u":
        raise TypeError(f"{who}: expected the uint8 tensor get_rng_state returned, got "
                        f"{type(new_state).__name__}{' of dtype ' + str(new_state.dtype) if hasattr(new_state, 'dtype') else ''}")
    generator = get_backend(device).generator
    if not hasattr(generator, "bit_generator"):
        raise RuntimeError(f"{who}: the generator of device '{device}' ({type(generator).__name__}) has no state "
                           "to set; reset it with manual_seed instead")
    try:
        state = json.loads(bytes(new_state.tolist()).decode())
        if not isinstance(state, dict) or state.get("bit_generator") != generator.bit_generator.state["bit_generator"]:
            raise ValueError("not a state of this generator's kind")
        generator.bit_generator.state = state
    except (ValueError, TypeError, KeyError, UnicodeDecodeError) as exc:
        raise ValueError(f"{who}: the tensor is not a state from get_rng_state ({exc})") from None


def default_generator(device="cpu"):
    """The generator behind the random functions on ``device`` (NumPy's on the CPU)."""
    return get_backend(device).generator


# ---------------------------------------------------------------- generators of one's own

_DEFAULT_SEED = 67280421310721  # what PyTorch seeds a new Generator with


class Generator:
    """``torch.Generator``: a stream of random numbers of its own on one device,
    for ``rand``, ``randn``, ``randint``, ``randperm`` and ``multinomial``
    (``generator=g``); the device's default stream (``manual_seed``) is left as
    it is. ``Generator().manual_seed(2147483647)`` returns the generator, as in
    PyTorch. The numbers are NumPy's (CuPy's on a GPU) PCG64, not PyTorch's."""

    def __init__(self, device="cpu"):
        from .device import device_of
        try:
            backend = get_backend(device)
        except ValueError as exc:
            raise ValueError(f"Generator: {exc}") from None
        self.device = device_of(backend.name)
        self.manual_seed(_DEFAULT_SEED)

    def manual_seed(self, seed):
        self._seed = _seed_arg("Generator.manual_seed", seed)
        xp = getattr(get_backend(self.device), "xp", None)  # the device's array module
        if xp is None:
            raise RuntimeError(f"Generator: device '{self.device}' has no array module to make a generator with")
        self._rng = xp.random.default_rng(self._seed)
        return self

    def seed(self):
        """Reseed from the operating system's entropy; returns the new seed."""
        seed = _entropy_seed()
        self.manual_seed(seed)
        return seed

    def initial_seed(self):
        return self._seed

    def __repr__(self):
        return f"Generator(device='{self.device}', initial_seed={self.initial_seed()})"


class _DefaultStream(Generator):
    """A device's default stream as a ``Generator``: drawing with ``generator=`` it is drawing
    without one; ``manual_seed`` and ``seed`` reseed every device, as the module's functions."""

    def __init__(self, device="cpu"):  # (no super().__init__: that would make a stream of its own)
        from .device import device_of
        self.device = device_of(get_backend(device).name)

    @property
    def _rng(self):
        return get_backend(self.device).generator

    def manual_seed(self, seed):
        manual_seed(seed)
        return self

    def seed(self):
        return seed()

    def initial_seed(self):
        return initial_seed()


def stream(who, generator, device):
    """The random generator to draw from for ``device``: ``generator``'s, checked
    to be a Generator on that device, or the device's default one."""
    be = get_backend(device)
    if generator is None:
        return be.generator
    if not isinstance(generator, Generator):
        raise TypeError(f"{who}: generator must be a tinygrad_bn.Generator, got {type(generator).__name__}")
    if get_backend(generator.device) is not be:
        raise RuntimeError(f"{who}: the generator is on '{generator.device}' and the result on '{be.name}'; "
                           f"expected one device: make the generator with Generator(device='{be.name}')")
    return generator._rng

