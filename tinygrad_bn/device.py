"""``tinygrad_bn.device`` and ``tinygrad_bn.Size``: PyTorch's ``torch.device`` and
``torch.Size``, for scripts that build them (``device = torch.device("cuda" if
torch.cuda.is_available() else "cpu")``, ``x.shape == torch.Size([2, 3])``).

A device is its name as a ``str`` subclass (so it works wherever a device name
does, and a tensor's ``.device`` is one), with PyTorch's ``type`` and ``index``.
Unlike PyTorch's, it compares equal to its name (``t.device == "cpu"``)."""


builtins_type = type  # device.__new__'s argument is named type, as PyTorch's

# the device types PyTorch's device() takes; a device of a type tinygrad_bn has no backend for
# (mps, xla, ...) can be named, as in PyTorch, and is refused where a tensor would go there
PYTORCH_DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga",
                        "maia", "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")


class device(str):  # noqa: N801  (PyTorch's name)
    """``device("cuda")``, ``device("cuda:0")``, ``device("cuda", 0)``, ``device("cpu")``."""

    def __new__(cls, type, index=None):  # noqa: A002  (PyTorch's argument name)
        if isinstance(type, device) and index is None:
            return type
        if not isinstance(type, str):
            raise TypeError(f"device: expected a device name such as 'cpu' or 'cuda' (and an optional index), "
                            f"got {builtins_type(type).__name__}")
        kind, colon, number = type.partition(":")
        if kind not in PYTORCH_DEVICE_TYPES and kind not in _registered():
            raise RuntimeError(f"device: expected one of {', '.join(PYTORCH_DEVICE_TYPES)} (or a device registered "
                               f"with register_backend) at the start of the device string, got {type!r}")
        if colon and index is not None:
            raise ValueError(f"device: got the index twice ({type!r} and index={index!r}); give it once")
        if index is not None:
            if isinstance(index, bool) or not isinstance(index, int) or index < 0:
                raise ValueError(f"device: index must be a non-negative int, got {index!r}")
            number = str(index)
        elif colon and not number.isdigit():
            raise ValueError(f"device: expected a name like 'cuda:0', got {type!r}")
        self = super().__new__(cls, f"{kind}:{number}" if number else kind)
        self.type, self.index = kind, (int(number) if number else None)
        return self

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __getnewargs__(self):
        return (str(self),)


def _registered():
    from .backends import devices
    return devices()


_DEVICES = {}


def device_of(name):
    """The ``device`` for a backend name, made once per name (a tensor's ``.device``)."""
    d = _DEVICES.get(name)
    if d is None:
        d = _DEVICES[name] = device(name)
    return d


class Size(tuple):
    """A shape, as ``torch.Size``: a tuple of ints with ``numel()``. A tensor's ``.shape`` and
    ``size()`` are one. Its str is the tuple's, ``(2, 3)`` (error messages print shapes so);
    its repr ``Size([2, 3])``."""

    def __new__(cls, sizes=()):
        sizes = tuple(sizes)
        for n in sizes:
            if isinstance(n, bool) or not isinstance(n, int) and not hasattr(n, "__index__"):
                raise TypeError(f"Size: expected ints, got {builtins_type(n).__name__} {n!r}")
        return super().__new__(cls, (int(n) for n in sizes))

    def numel(self):
        count = 1
        for n in self:
            count *= n
        return count

    def __getitem__(self, key):
        item = super().__getitem__(key)
        return _NEW_TUPLE(Size, item) if isinstance(key, slice) else item

    def __repr__(self):
        return f"Size({list(self)})"

    __str__ = tuple.__repr__


_NEW_TUPLE = tuple.__new__


def shape_of(array):
    """``array.shape`` as a ``Size``, without checking its entries again (they are the ints
    of an array's shape): what ``Tensor.shape`` returns on every read."""
    return _NEW_TUPLE(Size, array.shape)
