"""``summary(model, input_size)``: a per-layer table of output shapes, parameter counts and multiply-adds."""
import math
from dataclasses import dataclass, field

from ..autograd.grad_mode import no_grad
from ..nn.conv import Conv2d
from ..nn.linear import Linear
from ..tensor import zeros


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: tuple
    params: int
    mult_adds: int


@dataclass
class ModelSummary:
    """What ``summary`` measured; ``str()`` of it is the printable table."""

    rows: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    total_mult_adds: int = 0
    input_size: tuple = ()

    def __str__(self):
        header = f"{'Layer (type)':<34}{'Output Shape':<24}{'Param #':>12}{'Mult-Adds':>16}"
        rule = "=" * len(header)
        lines = [rule, header, rule]
        for row in self.rows:
            label = f"{row.name} ({row.kind})"
            lines.append(f"{label:<34}{str(list(row.output_shape)):<24}{row.params:>12,}{row.mult_adds:>16,}")
        lines += [
            rule,
            f"Total params: {self.total_params:,}",
            f"Trainable params: {self.trainable_params:,}",
            f"Non-trainable params: {self.total_params - self.trainable_params:,}",
            f"Total mult-adds: {self.total_mult_adds:,} for input size {list(self.input_size)}",
            rule,
        ]
        return "\n".join(lines)

    __repr__ = __str__


def mult_adds(module, output):
    """Multiply-adds of one call: conv, out.numel() * C_in/groups * kH * kW; linear, out.numel() * in_features."""
    if isinstance(module, Conv2d):
        return output.numel() * math.prod(module.weight.shape[1:])
    if isinstance(module, Linear):
        return output.numel() * module.in_features
    return 0


def summary(model, input_size, dtype=None, device=None):
    """Run ``model`` once on zeros of ``input_size`` (batch included, e.g. (1, 1, 28, 28)) and tabulate every
    leaf module it called, in call order: output shape, own parameter count and multiply-adds."""
    result = ModelSummary(input_size=tuple(input_size))
    names = {module: name for name, module in model.named_modules()}

    def record(module, inputs, output):
        own = sum(p.numel() for p in module.parameters(recurse=False))
        shape = tuple(output.shape) if hasattr(output, "shape") else ()
        result.rows.append(LayerRow(names[module], type(module).__name__, shape, own, mult_adds(module, output)))

    leaves = [m for m in model.modules() if not m._modules]
    handles = [m.register_forward_hook(record) for m in leaves]
    try:
        with no_grad():
            model(zeros(*input_size, dtype=dtype, device=device))
    finally:
        for handle in handles:
            handle.remove()
    result.total_params = sum(p.numel() for p in model.parameters())
    result.trainable_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    result.total_mult_adds = sum(row.mult_adds for row in result.rows)
    return result
