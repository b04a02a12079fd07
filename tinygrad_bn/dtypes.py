"""dtypes, named as in PyTorch. They are NumPy dtypes (``float32 is np.dtype("float32")``)."""
import numpy as np

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
bool_ = np.dtype("bool")

# what Python floats and the factories default to (set_default_dtype changes it)
default_float = float32

dtype = np.dtype  # torch.dtype: isinstance(x.dtype, tinygrad_bn.dtype) holds


def get_default_dtype():
    """The dtype Python floats and the float factories give (float32 unless set)."""
    return default_float


def set_default_dtype(d):
    """Make ``d`` (float32 or float64, as PyTorch allows; float16 too) the default float dtype."""
    global default_float
    d = as_dtype(d, "set_default_dtype")
    if d is None or d.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating point dtype (float32, float64), got {d}")
    default_float = d


def finfo(d=None):
    """Machine limits of a float dtype (eps, max, min, tiny, resolution, bits): NumPy's finfo."""
    d = as_dtype(d, "finfo") or default_float
    if d.kind != "f":
        raise TypeError(f"finfo: expected a floating point dtype, got {d}; use iinfo for integers")
    return np.finfo(d)


def iinfo(d):
    """Limits of an integer dtype (max, min, bits): NumPy's iinfo."""
    d = as_dtype(d, "iinfo")
    if d is None or d.kind not in "iub":
        raise TypeError(f"iinfo: expected an integer dtype, got {d}; use finfo for floats")
    return np.iinfo(np.uint8 if d.kind == "b" else d)


def as_dtype(dtype, who="tensor"):
    """``dtype`` as a NumPy dtype (None stays None), or a TypeError naming ``who``."""
    if dtype is None:
        return None
    if isinstance(dtype, (list, dict, np.ndarray)):  # NumPy reads some of these as record dtypes
        raise TypeError(f"{who}: expected a dtype, got {type(dtype).__name__}; use e.g. tinygrad_bn.float32")
    try:
        return np.dtype(dtype)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {dtype!r} ({type(dtype).__name__}) is not a dtype; "
                        "use e.g. tinygrad_bn.float32") from None


def cast_for(x, dtype, who):
    """``x`` cast to a reduction's ``dtype=`` argument first, as PyTorch's reductions
    do (x itself for None; a TypeError naming ``who`` for what is not a dtype)."""
    return x if dtype is None else x.to(as_dtype(dtype, who))


def is_float(dtype) -> bool:
    return dtype.kind == "f"


def float_only(who, dtype):
    """Refuse a dtype random floating-point values cannot take (None passes)."""
    if dtype is not None and not is_float(as_dtype(dtype, who)):
        raise TypeError(f"{who}: random values are floating point; expected a floating dtype, got {as_dtype(dtype)}")
