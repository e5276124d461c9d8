"""Data types: thin named wrappers around NumPy dtypes, spelled like torch's (``tl.float32``)."""
import builtins

import numpy as np


class dtype:
    """A tensor element type. ``is_floating_point`` tells whether tensors of it can require grad."""

    def __init__(self, name, numpy_dtype, legacy_name, c_name):
        self.name = name
        self.legacy_name = legacy_name  # torch's older name, used in its messages ("Float", "Long")
        self.c_name = c_name  # the C++ type, as other messages name it ("float", "long int")
        self.numpy = np.dtype(numpy_dtype)
        self.is_floating_point = self.numpy.kind == "f"
        self.itemsize = self.numpy.itemsize

    def __repr__(self):
        return f"tensorlite.{self.name}"

    def __reduce__(self):
        return (as_dtype, (self.name,))


float32 = dtype("float32", np.float32, "Float", "float")
float64 = dtype("float64", np.float64, "Double", "double")
int64 = dtype("int64", np.int64, "Long", "long int")
int32 = dtype("int32", np.int32, "Int", "int")
uint8 = dtype("uint8", np.uint8, "Byte", "unsigned char")
bool = dtype("bool", np.bool_, "Bool", "bool")  # noqa: A001 - torch's name
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001

ALL = (float32, float64, int64, int32, uint8, bool)
_BY_NUMPY = {d.numpy: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_default_float = float32


def category(d):
    """bool < integers < floating point: the order in which torch's type promotion ranks kinds. A result may be
    written into a tensor of its own category or a higher one."""
    return 2 if d.is_floating_point else 0 if d is bool else 1


def check_castable(result, target):
    """torch's error when an in-place op's ``result`` dtype would lose its kind written into ``target``."""
    if category(result) > category(target):
        raise RuntimeError(
            f"result type {result.legacy_name} can't be cast to the desired output type {target.legacy_name}"
        )


C_TYPE_NAMES = {"uint8": "uint8_t", "int8": "int8_t", "int16": "int16_t", "int32": "int", "int64": "int64_t"}  # torch's


def check_fits(array, d):
    """Raise torch's overflow error unless every value of the NumPy ``array`` (Python data on its way into a
    tensor of dtype ``d``) is in range: an integer dtype takes finite values between its limits, and uint8
    also integers down to -255 (they wrap, as in torch) but no negative fractions."""
    if d.is_floating_point or d is bool or array.dtype.kind not in "iuf" or array.size == 0:
        return
    info = np.iinfo(d.numpy)
    if array.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(array) | (array < (0 if d is uint8 else info.min)) | (array > info.max)
    else:
        bad = (array < (-info.max if d is uint8 else info.min)) | (array > info.max)
    if bad.any():
        raise RuntimeError(f"value cannot be converted to type {C_TYPE_NAMES.get(d.name, d.name)} without overflow")


def scalar_to(value, d):
    """The Python number ``value`` as a NumPy scalar of dtype ``d``, checked as ``check_fits`` does; floats
    truncate toward zero and negative integers wrap into uint8, as in torch."""
    array = np.asarray(value)
    check_fits(array, d)
    return array.astype(d.numpy)[()]


def get_default_dtype():
    return _default_float


def set_default_dtype(d):
    global _default_float
    d = as_dtype(d)
    if not d.is_floating_point:
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def from_numpy(numpy_dtype):
    """The tensorlite dtype of a NumPy dtype object (the fast path used on every op)."""
    try:
        return _BY_NUMPY[numpy_dtype]
    except KeyError:
        return as_dtype(numpy_dtype)


def as_dtype(d):
    """Accept a tensorlite dtype, a NumPy dtype or type, a Python type, or a name; return a tensorlite dtype."""
    if isinstance(d, dtype):
        return d
    if d is builtins.float:
        return _default_float
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    try:
        npd = np.dtype(d)
    except TypeError:
        raise TypeError(f"cannot interpret {d!r} as a tensorlite dtype") from None
    if npd == np.float16:
        raise TypeError("float16 is not supported; use tensorlite.float32")
    if npd not in _BY_NUMPY:
        raise TypeError(f"unsupported dtype {npd}; expected one of {[x.name for x in ALL]}")
    return _BY_NUMPY[npd]
