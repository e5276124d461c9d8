"""The functional forms of layers and losses: ``import tensorlite.nn.functional as F``.

Every function is composed of differentiable tensor ops (matmul, log_softmax, indexing, where, sum, ...),
so autograd derives each gradient; nothing here writes a backward by hand. Shapes use torch's letters:
``N`` batch, ``C`` classes, ``d1, ...`` extra dimensions (pixels of a segmentation map).
"""
import math
import warnings

import numpy as np

from .. import dtypes, random
from ..autograd.function import named, traced_as
from ..autograd.grad_mode import is_grad_enabled, no_grad
from ..ops.arguments import check_floating
from ..ops.conv import conv2d, corr2d  # noqa: F401
from ..ops.elementwise import LeakyReLU, broadcast_shapes, where
from ..ops.linalg import Addmm, check_inner_sizes, check_operands
from ..ops.loss import BinaryCrossEntropy, BinaryCrossEntropyWithLogits, CrossEntropy, LogSigmoid, SmoothL1
from ..ops.norm import batch_norm, group_norm, instance_norm, layer_norm  # noqa: F401
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d  # noqa: F401
from ..ops.registry import FUNCTIONAL
from ..ops.shape import expanded_shape, pad, stack  # noqa: F401
from ..tensor import Tensor, arange, tensor

globals().update(FUNCTIONAL)  # the ops registered with a functional form: sigmoid, tanh, softplus


# --------------------------------------------------------------------- layers
@traced_as("linear")
def linear(input, weight, bias=None):
    """y = x W^T + b for x ``(*, in_features)``, W ``(out_features, in_features)``, b ``(out_features,)``.

    As in torch, a 2-D x with a bias is one ``Addmm`` node (torch's addmm: b must expand to the output's shape) and
    other x with a 1-D b add it to x W^T; both need b in W's dtype. Any other b is added in place to x W^T, so y
    keeps x W^T's dtype and shape. (torch also sends non-contiguous inputs
    the second way; tensorlite keeps no strides, and treats every input as contiguous.)
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"linear(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    fused = bias is not None and (input.dim() == 2 or bias.dim() == 1)
    if fused and bias.dtype is not weight.dtype:
        raise RuntimeError(
            f"self and mat2 must have the same dtype, but got {bias.dtype.legacy_name} and {weight.dtype.legacy_name}"
        )
    if fused and input.dtype is not weight.dtype:  # torch's addmm: float64 input, float32 layer is an error
        raise RuntimeError(
            f"mat1 and mat2 must have the same dtype, but got {input.dtype.legacy_name} and {weight.dtype.legacy_name}"
        )
    if fused and input.dim() == 2:  # torch's addmm, one node, with a bias of any shape that expands to the output's
        weight_t = weight.t()
        check_operands(input, weight_t)
        check_inner_sizes(input, weight_t)
        expanded_shape(bias.shape, (input.shape[0], weight_t.shape[1]))  # torch's message for a bias that does not fit
        return Addmm.apply(bias, input, weight_t)
    out = input.matmul(weight.t())
    if bias is None:
        return out
    if not fused:
        return out.add_(bias)
    return out + bias


def flatten(input, start_dim=0, end_dim=-1):
    """Merge dims ``start_dim .. end_dim`` into one."""
    return input.flatten(start_dim, end_dim)


def _check_dropout_probability(p):
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropped(input, p, mask_shape):
    """``input`` times a keep-mask of ``mask_shape`` (broadcast over the rest) scaled by 1 / (1 - p)."""
    keep = random.bernoulli_mask(1.0 - p, mask_shape, dtype=input.dtype, device=input.device)
    return input * (keep * (1.0 / (1.0 - p) if p < 1.0 else 0.0))


def dropout(input, p=0.5, training=True, inplace=False):
    """Inverted dropout: zero each element with probability ``p`` and scale the rest by 1 / (1 - p),
    so the expected value is unchanged and evaluation needs no rescaling. The identity when not training.

    ``inplace`` is accepted for torch compatibility; the result is always a new tensor.
    """
    _check_dropout_probability(p)
    if not training or p == 0.0:
        return input
    return _dropped(input, p, input.shape)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Channel dropout, torch's feature dropout: zero each (sample, channel) of (N, C, *) with probability ``p``,
    scale the rest by 1 / (1 - p). Neighbouring pixels are correlated, so dropping single pixels would hardly
    regularise. As in torch, a 3-D input is (N, C, L), not an unbatched image, and other than 3-D or 4-D input is
    deprecated (a warning) but still dropped per (dim 0, dim 1) entry."""
    _check_dropout_probability(p)
    if input.dim() not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.dim()}-D input to dropout2d, which is deprecated and will result in an "
            "error in a future release. To retain the behavior and silence this warning, please use dropout instead. "
            "Note that dropout2d exists to provide channel-wise dropout on inputs with 2 spatial dimensions, a "
            "channel dimension, and an optional batch dimension (i.e. 3D or 4D inputs)."
        )
    if input.dim() == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior is "
            "desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior will change "
            "in a future release to interpret the input as one without a batch dimension, i.e. shape (C, H, W). To "
            "maintain the 1D channel-wise dropout behavior, please switch to using dropout1d instead."
        )
    if not training or p == 0.0:
        return input
    if input.dim() < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _dropped(input, p, input.shape[:2] + (1,) * (input.dim() - 2))


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None):
    """Resize the spatial dimensions of (N, C, *spatial) by nearest-neighbour sampling, as torch's ``mode='nearest'``:
    out[..., i] = in[..., floor(i * scale)], scale = 1 / scale_factor when given, else in_size / out_size."""
    if mode != "nearest":
        raise NotImplementedError(f"interpolate: mode '{mode}' is not supported; tensorlite implements mode='nearest'")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    spatial = input.shape[2:]
    if input.dim() < 3:
        raise ValueError(f"interpolate: expected input with at least 3 dimensions (N, C, *), got {input.dim()}")

    def per_axis(value):
        values = tuple(value) if isinstance(value, (tuple, list)) else (value,) * len(spatial)
        if len(values) != len(spatial):
            raise ValueError(f"interpolate: expected {len(spatial)} values for the spatial dimensions, got {len(values)}")
        return values

    if size is not None:
        out_sizes = per_axis(size)
        scales = [n / o for n, o in zip(spatial, out_sizes)]
    else:
        factors = per_axis(scale_factor)
        out_sizes = [int(math.floor(n * f)) for n, f in zip(spatial, factors)]
        scales = [1.0 / f for f in factors]
    if min(spatial) <= 0 or min(out_sizes) <= 0:
        names = ("D", "H", "W")[-len(spatial):]
        raise RuntimeError(
            "Input and output sizes should be greater than 0, but got "
            f"input ({', '.join(f'{a}: {n}' for a, n in zip(names, spatial))}) "
            f"output ({', '.join(f'{a}: {o}' for a, o in zip(names, out_sizes))})"
        )
    out = input
    for axis, (n, o, scale) in enumerate(zip(spatial, out_sizes, scales)):
        source = np.minimum(np.floor(np.arange(o, dtype=np.float32) * np.float32(scale)).astype(np.int64), n - 1)
        out = out[(slice(None),) * (axis + 2) + (tensor(source, device=input.device),)]
    return out


def one_hot(tensor, num_classes=-1):
    """int64 labels of any shape ``S`` → ``(*S, num_classes)`` int64 tensor with a 1 at each label's position.

    ``num_classes=-1`` means one more than the largest label.
    """
    if tensor.dtype is not dtypes.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    if tensor.numel() == 0 and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if num_classes == -1:
        num_classes = int(tensor.max()) + 1
    if tensor.numel() and int(tensor.min()) < 0:
        raise RuntimeError("Class values must be non-negative.")
    if tensor.numel() and int(tensor.max()) >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    return (tensor.unsqueeze(-1) == arange(num_classes, device=tensor.device)).long()


# --------------------------------------------------------------------- activations
def relu(input, inplace=False):
    """max(x, 0); with ``inplace`` written into ``input``."""
    return input.relu_() if inplace else input.relu()


def leaky_relu(input, negative_slope=0.01, inplace=False):
    """x if x > 0 else negative_slope * x; with ``inplace`` written into ``input``. Floating point only, as in torch."""
    check_floating("leaky_relu_cpu", input)
    if inplace:
        return input._inplace(lambda x: LeakyReLU.apply(x, negative_slope))
    return LeakyReLU.apply(input, negative_slope)


def _softmax_dim(ndim):
    """torch's legacy choice when ``dim`` is omitted: 0 for 0-, 1- and 3-d inputs, else 1 (with a warning)."""
    warnings.warn(
        "Implicit dimension choice for softmax has been deprecated. Change the call to include dim=X as an argument.",
        stacklevel=3,
    )
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input, dim=None, dtype=None):
    """exp(x_i) / sum_j exp(x_j) along ``dim`` (computed as one stable kernel); cast to ``dtype`` first if given."""
    x = input if dtype is None else input.to(dtype)
    return x.softmax(_softmax_dim(x.dim()) if dim is None else dim)


def log_softmax(input, dim=None, dtype=None):
    """x_i - log sum_j exp(x_j) along ``dim``, without overflow for large x."""
    x = input if dtype is None else input.to(dtype)
    return x.log_softmax(_softmax_dim(x.dim()) if dim is None else dim)


# --------------------------------------------------------------------- loss helpers
_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _reduce(loss, reduction):
    """'none': the per-element losses; 'sum': their sum; 'mean': their mean."""
    _check_reduction(reduction)
    if reduction == "none":
        return loss
    return loss.sum() if reduction == "sum" else loss.mean()


def _warn_if_broadcast(input, target):
    if target.shape != input.shape:
        warnings.warn(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
            "This will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.",
            stacklevel=3,
        )


def _class_dim(input):
    """Classes lie along dim 1 of ``(N, C, d1, ...)`` inputs and along dim 0 of an unbatched ``(C,)`` input."""
    if input.dim() == 0:
        raise ValueError("Expected input of shape (C,), (N, C) or (N, C, d1, ...) holding class scores, got a 0-d tensor")
    return 0 if input.dim() == 1 else 1


def _check_class_weight(weight, num_classes):
    if weight is not None and (weight.dim() != 1 or weight.numel() != num_classes):
        raise RuntimeError(
            f"weight tensor should be defined either for all {num_classes} classes or no classes "
            f"but got weight tensor of shape: {list(weight.shape)}"
        )


def _check_class_targets(input, target):
    """Class-index targets: int64 (or uint8) of shape ``(N, d1, ...)`` for input ``(N, C, d1, ...)``, ``()`` for ``(C,)``."""
    if target.dtype not in (dtypes.int64, dtypes.uint8):
        raise RuntimeError(
            f"expected target dtype to be Long or Byte, but got {target.dtype.legacy_name} "
            "(class-index targets are int64 labels; use target.long())"
        )
    if input.dim() == 1:
        if target.dim() > 1 or target.numel() != 1:
            raise ValueError(f"For 1D input, 1D target must have size 1, but got target size: {target.numel()}")
        return
    target_batch = target.shape[0] if target.dim() else 0
    if target_batch != input.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size ({target_batch}).")
    expected = (input.shape[0],) + input.shape[2:]
    if target.shape != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")


def _rows_of_classes(input):
    """``(C,)`` → ``(1, C)``; ``(N, C)`` → itself; ``(N, C, d1, ...)`` → ``(N*d1*..., C)``: one row per target."""
    if input.dim() > 2:
        input = input.permute(0, *range(2, input.dim()), 1)  # classes last
    return input.reshape(-1, input.shape[-1])


def _select_targets(scores, target, weight, ignore_index):
    """Validate class-index targets against ``scores`` ``(N, C, ...)`` and line them up.

    Returns ``(picked, kept, w)``, each of shape ``(M,)`` with M = target.numel(): ``picked[m]`` is the score
    of target m's class, ``kept`` is False where the target equals ``ignore_index``, and ``w = weight[target]``
    where kept, else 0 (``weight`` defaults to all ones).
    """
    class_dim = _class_dim(scores)
    num_classes = scores.shape[class_dim]
    _check_class_targets(scores, target)
    _check_class_weight(weight, num_classes)
    labels = target.reshape(-1).long()
    kept = labels != ignore_index
    out_of_range = kept & ((labels < 0) | (labels >= num_classes))
    if out_of_range.any():
        raise IndexError(f"Target {labels[out_of_range][0].item()} is out of bounds.")
    labels = where(kept, labels, 0)
    rows = _rows_of_classes(scores)
    picked = rows[arange(rows.shape[0], device=rows.device), labels]
    w = kept.to(scores.dtype) if weight is None else where(kept, weight[labels], 0)
    return picked, kept, w


def _unless_ignored(kept, losses):
    """``losses`` where the target is kept, exactly 0 (and no gradient) where it is ignored, as torch skips those
    targets: even a NaN or infinite score there adds nothing."""
    return where(kept, losses, 0)


def _weighted_reduce(losses, weights, reduction, shape):
    """'none': ``losses`` reshaped to the target's ``shape``; 'sum': their sum; 'mean': sum(losses) / sum(weights).

    A zero total weight makes 'mean' 0 / 0, NaN, as in torch; so is the gradient of the targets weighted 0
    (-0 / 0), while ignored targets, with no gradient at all, keep their 0."""
    if reduction == "none":
        return losses.reshape(shape)
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / weights.sum()


# --------------------------------------------------------------------- classification losses
def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class-index targets, given log-probabilities ``input``.

    input ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``; target int64 ``(N,)``, ``(N, d1, ...)`` or ``()``.
    loss_n = -weight[t_n] * input[n, t_n] (0 where t_n == ignore_index); 'mean' divides the sum by
    sum_n weight[t_n] over the targets that are not ignored.
    """
    _check_reduction(reduction)
    picked, kept, w = _select_targets(input, target, weight, ignore_index)
    return named(_weighted_reduce(_unless_ignored(kept, -picked * w), w, reduction, target.shape), "NllLossBackward0")


def _cross_entropy_probabilities(log_probs, target, weight, ignore_index, reduction, label_smoothing):
    """Cross-entropy against class probabilities ``target`` (same shape as the input):
    loss_n = -sum_c weight_c * target_nc * log_probs_nc; 'mean' averages over the N*d1*... positions."""
    class_dim = _class_dim(log_probs)
    num_classes = log_probs.shape[class_dim]
    if not target.dtype.is_floating_point:
        raise RuntimeError(
            f"Expected floating point type for target with class probabilities, got {target.dtype.legacy_name}"
        )
    if ignore_index >= 0:
        raise RuntimeError("ignore_index is not supported for floating point target")
    _check_class_weight(weight, num_classes)
    if label_smoothing > 0:
        target = target * (1 - label_smoothing) + label_smoothing / num_classes
    terms = log_probs * target
    if weight is not None:  # broadcast (C,) along the class dimension
        terms = terms * weight.reshape((num_classes,) + (1,) * (log_probs.dim() - class_dim - 1))
    return _reduce(-terms.sum(class_dim), reduction)


def _fused_cross_entropy_applies(input, target, weight, ignore_index, reduction, label_smoothing):
    """The plain case, (N, C) scores against valid int64 class indices with nothing weighted, smoothed or
    ignored, goes to the fused ``CrossEntropy`` op; anything else (or anything invalid, to get its error
    message) to the general composition."""
    if weight is not None or label_smoothing or reduction == "none" or input.dim() != 2 or target.dim() != 1:
        return False
    if target.dtype is not dtypes.int64 or target.shape[0] != input.shape[0] or target.numel() == 0:
        return False
    b, classes = target._backend, target._current_array()  # the backend itself: no op, no graph, half the loss's time
    low, high = b.to_numpy(b.min(classes)).item(), b.to_numpy(b.max(classes)).item()
    return 0 <= low and high < input.shape[1] and not low <= ignore_index <= high


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy between logits ``input`` and ``target``: ``nll_loss(log_softmax(input, class dim), target)``.

    input: unnormalised scores ``(N, C)``, ``(N, C, d1, ...)`` or ``(C,)``. target: either int64 class indices
    (shape of the input without the class dim) or class probabilities (the input's shape, floating point).
    ``label_smoothing`` ε mixes the target with the uniform distribution: for class indices
    loss = (1 - ε) nll + ε / C * sum_c weight_c * (-log p_c). Stable for any logits: log_softmax subtracts the maximum.
    """
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if _fused_cross_entropy_applies(input, target, weight, ignore_index, reduction, label_smoothing):
        return CrossEntropy.apply(input, target, reduction)
    class_dim = _class_dim(input)
    log_probs = input.log_softmax(class_dim)
    if target.shape == input.shape:
        return _cross_entropy_probabilities(log_probs, target, weight, ignore_index, reduction, label_smoothing)
    picked, kept, w = _select_targets(log_probs, target, weight, ignore_index)
    loss = named(_weighted_reduce(_unless_ignored(kept, -picked * w), w, reduction, target.shape), "NllLossBackward0")
    if label_smoothing == 0.0:
        return loss
    rows = _rows_of_classes(log_probs)
    uniform = _unless_ignored(kept, -(rows if weight is None else rows * weight).sum(1))  # -sum_c weight_c log p_c
    smooth = _weighted_reduce(uniform, w, reduction, target.shape)
    return (1 - label_smoothing) * loss + (label_smoothing / log_probs.shape[class_dim]) * smooth


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """-weight * (y log p + (1 - y) log(1 - p)) for probabilities p = ``input`` in [0, 1], any shape, and targets
    y in [0, 1] of p's dtype.

    Each log is clamped at -100 (torch's rule), so a confident wrong prediction costs 100, not infinity. The weight
    multiplies the loss in place, as in torch: the loss keeps p's dtype, and a weight may not enlarge it.
    """
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(
            f"Using a target size ({target.shape}) that is different to the input size ({input.shape}) is deprecated. "
            "Please ensure they have the same size."
        )
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {target.dtype.legacy_name} but expected {input.dtype.legacy_name}")
    check_floating("binary_cross_entropy", input)
    for name, t in (("input", input), ("target", target)):
        if not ((t >= 0) & (t <= 1)).all():  # NaN fails both comparisons
            raise RuntimeError(f"all elements of {name} should be between 0 and 1")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss.mul_(weight)
    return named(_reduce(loss, reduction), "BinaryCrossEntropyBackward0")


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean", pos_weight=None):
    """binary_cross_entropy(sigmoid(x), y) computed stably from logits x = ``input``, as torch computes it:

        -weight * (pos_weight * y log σ(x) + (1 - y) log(1 - σ(x))) = weight * ((1 - y) x - l log σ(x)),
        l = 1 + (pos_weight - 1) y                                         (as log(1 - σ(x)) = log σ(x) - x)

    The loss is computed in place of 1 - y, so it has the target's dtype (log σ(x) has the input's); weight
    multiplies it in place too, and may not enlarge it. The gradients are torch's own formulas (see
    ``ops.loss.BinaryCrossEntropyWithLogits``); weight and pos_weight may not require grad, as in torch.
    """
    _check_reduction(reduction)
    if target.shape != input.shape:
        raise ValueError(f"Target size ({target.shape}) must be the same as input size ({input.shape})")
    check_floating("log_sigmoid_cpu", input)
    for name, value in (("weight", weight), ("pos_weight", pos_weight)):
        if value is not None and value.requires_grad and is_grad_enabled():
            raise RuntimeError(f"The function 'binary_cross_entropy_with_logits' is not differentiable with respect "
                               f"to argument '{name}'. This input cannot have requires_grad True.")
    with no_grad():
        log_sigmoid = LogSigmoid.apply(input)
        if pos_weight is not None:
            log_sigmoid = log_sigmoid * ((pos_weight - 1) * target + 1)
        loss = (1 - target).mul_(input).sub_(log_sigmoid)
        if weight is not None:
            loss = loss.mul_(weight)
    loss = BinaryCrossEntropyWithLogits.apply(loss, input, target, weight, pos_weight)
    return named(_reduce(loss, reduction), "BinaryCrossEntropyWithLogitsBackward0")


# --------------------------------------------------------------------- regression losses
def _broadcast_pair(input, target):
    """``input`` and ``target`` expanded to their broadcast shape (torch.broadcast_tensors), as torch's regression
    losses take them: their dtypes then promote as two tensors of that shape, so that a 0-d float64 target
    makes the loss of a float32 input float64."""
    shape = broadcast_shapes(input.shape, target.shape)
    return input.expand(shape), target.expand(shape)


def mse_loss(input, target, *, reduction="mean"):
    """(x - y)^2 per element of x and y broadcast together, then reduced."""
    _warn_if_broadcast(input, target)
    input, target = _broadcast_pair(input, target)
    diff = input - target
    return named(_reduce(diff * diff, reduction), "MseLossBackward0")


def l1_loss(input, target, *, reduction="mean"):
    """|x - y| per element of x and y broadcast together, then reduced."""
    _warn_if_broadcast(input, target)
    input, target = _broadcast_pair(input, target)
    return _reduce((input - target).abs(), reduction)


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):
    """0.5 (x - y)^2 / beta where |x - y| < beta, else |x - y| - 0.5 beta, per element of x and y broadcast
    together, then reduced; beta = 0 gives the L1 loss."""
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    _warn_if_broadcast(input, target)
    input, target = _broadcast_pair(input, target)
    return named(_reduce(SmoothL1.apply(input - target, float(beta)), reduction), "SmoothL1LossBackward0")


# Convolution, pooling and normalisation functionals (conv2d, max_pool2d, avg_pool2d, batch_norm, ...) are
# imported here from the modules that define them, one line each.
