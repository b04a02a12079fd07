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

# what Python floats and the factories default to
default_float = float32


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


def is_float(dtype) -> bool:
    return dtype.kind == "f"
