"""Cross-entropy of class scores against class indices as one fused op (the common case of every classifier).

    loss = -(1/N) sum_n log_softmax(x)_n[t_n]           ('mean'; 'sum' drops the 1/N)
    d loss / d x = (softmax(x) - onehot(t)) / N

One forward kernel and one backward pass instead of the dozen small ops the general ``cross_entropy``
composes (log-softmax, gather, masks, weights); the general form handles everything else. Beside it, the
elementwise pieces of the losses whose gradients torch writes by hand: ``BinaryCrossEntropy``,
``BinaryCrossEntropyWithLogits``, ``LogSigmoid`` and ``SmoothL1``.
"""
import math

from .. import dtypes
from ..autograd.function import Op
from ..autograd.grad_mode import is_grad_enabled


class CrossEntropy(Op):
    """loss = -scale * sum_n log_softmax(logits)_n[t_n]; d loss / d logits = (softmax(logits) - onehot(t)) * scale,
    scale = 1/N ('mean') or 1 ('sum'). Forward computes that gradient for grad_out = 1 on the arrays it has at hand,
    so that a plain backward is one product; with ``create_graph`` the softmax is recomputed from the logits, so
    that the gradient can be differentiated again in the logits and in grad_out."""

    node_name = "NllLossBackward0"

    @staticmethod
    def forward(ctx, b, logits, target, reduction):
        n = logits.shape[0]
        rows = b.arange(0, n, 1, dtype=dtypes.int64.numpy)
        log_probs = b.log_softmax(logits, 1)
        ctx.scale = 1.0 / n if reduction == "mean" else 1.0
        scale = b.asarray(ctx.scale, logits.dtype)
        if ctx.records_graph:
            onehot = b.index_add(logits.shape, (rows, target), b.ones((n,), dtype=logits.dtype), logits.dtype)
            unit_grad = b.multiply(b.subtract(b.exp(log_probs), onehot), scale)
            ctx.save_for_backward(logits, onehot, unit_grad)
        picked = b.getitem(log_probs, (rows, target))
        return b.negative(b.multiply(b.sum(picked), scale))

    @staticmethod
    def backward(ctx, grad):
        logits, onehot, unit_grad = ctx.saved_tensors
        if is_grad_enabled():
            return (logits.softmax(1) - onehot) * (grad * ctx.scale), None, None
        return unit_grad * grad, None, None


class BinaryCrossEntropy(Op):
    """Elementwise binary cross-entropy of probabilities p against targets y, as torch computes it:

        loss = -(y log p + (1 - y) log(1 - p))        each log clamped below at -100
        d loss / d p = (p - y) / max(p (1 - p), 1e-12)      d loss / d y = log(1 - p) - log(p)

    The clamps keep the loss finite at p = 0 or 1 (a confident wrong prediction costs 100) while the gradient
    there stays large and of the right sign, not the 0 that differentiating the clamped logs would give.
    """

    @staticmethod
    def forward(ctx, b, p, y):
        ctx.save_for_backward(p, y)
        one = b.asarray(1, p.dtype)
        hit = b.multiply(y, _clamped_log(b, p))
        miss = b.multiply(b.subtract(one, y), _clamped_log(b, b.subtract(one, p)))
        return b.negative(b.add(hit, miss))

    @staticmethod
    def backward(ctx, grad):
        p, y = ctx.saved_tensors
        grad_p = grad * (p - y) / (p * (1 - p)).clamp(min=1e-12) if ctx.needs_input_grad[0] else None
        grad_y = grad * ((1 - p).log() - p.log()) if ctx.needs_input_grad[1] else None
        return grad_p, grad_y


def _clamped_log(b, p):
    """log(p) clamped below at -100, computed on p kept above e^-101 so that log never sees 0."""
    return b.clip(b.log(b.clip(p, math.exp(-101.0), None)), -100.0, None)


class LogSigmoid(Op):
    """log σ(x) = min(x, 0) - log(1 + exp(-|x|)), torch's formula: no exp overflows, whatever x. The log is taken in
    float64 and rounded once to x's dtype, as accurate as torch's log1p where exp(-|x|) is small next to 1.

        d/dx log σ(x) = 1 - σ(x) = σ(-x)
    """

    node_name = "LogSigmoidBackward0"

    @staticmethod
    def forward(ctx, b, x):
        ctx.save_for_backward(x)
        wide = dtypes.float64.numpy
        softplus = b.log(b.add(b.exp(b.astype(b.negative(b.abs(x)), wide)), b.asarray(1.0, wide)))
        return b.subtract(b.clip(x, None, 0), b.astype(softplus, x.dtype))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * (-x).sigmoid()


class BinaryCrossEntropyWithLogits(Op):
    """The gradients of binary_cross_entropy_with_logits's elementwise loss, by torch's formulas:

        d loss / d x = ((p y + 1 - y) σ(x) - p y) w          p = pos_weight, w = weight (1 when not given)
        d loss / d y = (log σ(-x) - p log σ(x)) w

    ``apply(loss, x, y, weight, pos_weight)`` returns ``loss`` as it is: the value comes from the tensor ops that
    compute it in nn.functional (they carry torch's dtype rules), the gradients from here. At p = inf and
    y = 1 the input's gradient is inf - inf = NaN, as torch's; differentiating the loss's own formula would
    give an infinity there. weight and pos_weight get no gradient (torch refuses them when they require one).
    """

    node_name = "BinaryCrossEntropyWithLogitsBackward0"

    @staticmethod
    def forward(ctx, b, loss, x, y, weight, pos_weight):
        ctx.save_for_backward(x, y, weight, pos_weight)
        return loss

    @staticmethod
    def backward(ctx, grad):
        x, y, weight, pos_weight = ctx.saved_tensors
        if weight is not None:
            grad = grad * weight
        grad_x = grad_y = None
        if ctx.needs_input_grad[1]:
            if pos_weight is None:
                grad_x = (x.sigmoid() - y) * grad
            else:
                positive = pos_weight * y
                grad_x = ((positive + 1 - y) * x.sigmoid() - positive) * grad
        if ctx.needs_input_grad[2]:
            if pos_weight is None:
                grad_y = -x * grad
            else:
                grad_y = (LogSigmoid.apply(-x) - pos_weight * LogSigmoid.apply(x)) * grad
        return None, grad_x, grad_y, None, None


class SmoothL1(Op):
    """The smooth L1 (Huber-like) loss of a difference d = x - y, elementwise, with torch's beta > 0:

        loss = 0.5 d^2 / beta   where |d| < beta,   |d| - 0.5 beta   elsewhere
        d loss / d d = clamp(d / beta, -1, 1)

    The gradient is written out, not taken through the two branches, so that an infinite d gets torch's +-1,
    not the NaN that 0 * inf in the unused quadratic branch would give.
    """

    node_name = "SmoothL1LossBackward0"

    @staticmethod
    def forward(ctx, b, d, beta):
        ctx.save_for_backward(d)
        ctx.beta = beta
        half, beta = b.asarray(0.5, d.dtype), b.asarray(beta, d.dtype)
        size = b.abs(d)
        quadratic = b.true_divide(b.multiply(b.multiply(half, d), d), beta)
        return b.where(b.less(size, beta), quadratic, b.subtract(size, b.multiply(half, beta)))

    @staticmethod
    def backward(ctx, grad):
        (d,) = ctx.saved_tensors
        return grad * (d / ctx.beta).clamp(-1, 1), None
