"""``LSTM``: a multi-layer long short-term memory network, as ``torch.nn.LSTM``, built from differentiable
tensor ops (matmul, chunk, sigmoid, tanh, stack), so autograd gives its gradients."""
import math
import numbers
import warnings

from ..ops.shape import cat, stack
from ..tensor import empty, zeros
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter


class LSTM(Module):
    r"""A stack of ``num_layers`` LSTM layers over a sequence; each time step t of layer k computes

        i = sigmoid(x_t W_ii^T + b_ii + h_{t-1} W_hi^T + b_hi)     input gate
        f = sigmoid(x_t W_if^T + b_if + h_{t-1} W_hf^T + b_hf)     forget gate
        g = tanh(x_t W_ig^T + b_ig + h_{t-1} W_hg^T + b_hg)        cell candidate
        o = sigmoid(x_t W_io^T + b_io + h_{t-1} W_ho^T + b_ho)     output gate
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)                     (with proj_size > 0: h_t = (o * tanh(c_t)) W_hr^T)

    where x_t is the input (layer 0) or the previous layer's output h_t (with dropout of probability
    ``dropout`` in training, after every layer but the last). ``weight_ih_l{k}`` is W_ii, W_if, W_ig, W_io
    stacked (gate order i, f, g, o), shape ``(4 * hidden_size, input_size)`` for k = 0 and
    ``(4 * hidden_size, D * H_out)`` after; ``weight_hh_l{k}`` is ``(4 * hidden_size, H_out)``; ``bias_ih_l{k}``
    and ``bias_hh_l{k}`` are ``(4 * hidden_size,)``; ``weight_hr_l{k}`` is ``(proj_size, hidden_size)``.
    A bidirectional LSTM has a second set with the suffix ``_reverse`` that reads the sequence backwards.
    Every parameter starts as U(-k, k), k = 1 / sqrt(hidden_size).

    Shapes, with D = 2 if bidirectional else 1 and H_out = proj_size if proj_size > 0 else hidden_size:

    - input: ``(L, N, input_size)``, ``(N, L, input_size)`` with ``batch_first``, or unbatched ``(L, input_size)``;
    - hx = (h_0, c_0): ``(D * num_layers, N, H_out)`` and ``(D * num_layers, N, hidden_size)`` (unbatched: without
      the N), zeros when omitted;
    - output: ``(L, N, D * H_out)`` (``(N, L, D * H_out)`` with ``batch_first``, ``(L, D * H_out)`` unbatched), the
      last layer's h_t for every t, both directions concatenated;
    - h_n, c_n: the final states of every layer and direction, shaped like h_0 and c_0.

    The input projection x_t W_ih^T + b_ih + b_hh is one matmul per layer and direction for all time steps;
    the recurrence loops over time.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                stacklevel=2,
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(f"batch_first should be of type bool, got: {type(batch_first).__name__}")
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        num_directions = 2 if bidirectional else 1
        out_size = proj_size if proj_size > 0 else hidden_size
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else out_size * num_directions
            for direction in range(num_directions):
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = [
                    ("weight_ih", (4 * hidden_size, layer_input_size)),
                    ("weight_hh", (4 * hidden_size, out_size)),
                ]
                if bias:
                    shapes += [("bias_ih", (4 * hidden_size,)), ("bias_hh", (4 * hidden_size,))]
                if proj_size > 0:
                    shapes.append(("weight_hr", (proj_size, hidden_size)))
                for name, shape in shapes:
                    setattr(self, name + suffix, Parameter(empty(shape, device=device, dtype=dtype)))
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def _direction_parameters(self, layer, direction):
        """(weight_ih, weight_hh, bias or None, weight_hr or None) of one layer and direction."""
        suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
        bias = getattr(self, "bias_ih" + suffix) + getattr(self, "bias_hh" + suffix) if self.bias else None
        weight_hr = getattr(self, "weight_hr" + suffix) if self.proj_size > 0 else None
        return getattr(self, "weight_ih" + suffix), getattr(self, "weight_hh" + suffix), bias, weight_hr

    def _check_hidden(self, h_0, c_0, batch):
        """torch's errors for initial states of the wrong shape."""
        num_directions = 2 if self.bidirectional else 1
        out_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        for i, (state, size) in enumerate(((h_0, out_size), (c_0, self.hidden_size))):
            expected = (self.num_layers * num_directions, batch, size)
            if tuple(state.shape) != expected:
                raise RuntimeError(f"Expected hidden[{i}] size {expected}, got {list(state.shape)}")

    def forward(self, input, hx=None):
        if input.dim() not in (2, 3):
            raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
        batched = input.dim() == 3
        if hx is not None:
            h_0, c_0 = hx
            want = 3 if batched else 2
            if h_0.dim() != want or c_0.dim() != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                got = f"({h_0.dim()}-D, {c_0.dim()}-D)"
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got {got} tensors")
        if not batched:
            input = input.unsqueeze(1)
            if hx is not None:
                h_0, c_0 = h_0.unsqueeze(1), c_0.unsqueeze(1)
        elif self.batch_first:
            input = input.transpose(0, 1)
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.shape[-1]}"
            )
        num_directions = 2 if self.bidirectional else 1
        batch = input.shape[1]
        if hx is None:
            out_size = self.proj_size if self.proj_size > 0 else self.hidden_size
            states = self.num_layers * num_directions
            h_0 = zeros(states, batch, out_size, dtype=input.dtype, device=input.device)
            c_0 = zeros(states, batch, self.hidden_size, dtype=input.dtype, device=input.device)
        else:
            self._check_hidden(h_0, c_0, batch)

        layer_input, h_n, c_n = input, [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                k = layer * num_directions + direction
                output, h, c = self._run_direction(layer_input, h_0[k], c_0[k], layer, direction)
                outputs.append(output)
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if num_directions == 1 else cat(outputs, dim=2)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, training=True)
        output, h_n, c_n = layer_input, stack(h_n), stack(c_n)
        if not batched:
            return output.squeeze(1), (h_n.squeeze(1), c_n.squeeze(1))
        if self.batch_first:
            output = output.transpose(0, 1)
        return output, (h_n, c_n)

    def _run_direction(self, input, h, c, layer, direction):
        """One layer in one direction over ``input`` (L, N, H_in) from states h (N, H_out) and c (N, hidden_size):
        returns the outputs (L, N, H_out) and the final h and c."""
        weight_ih, weight_hh, bias, weight_hr = self._direction_parameters(layer, direction)
        input_gates = input.matmul(weight_ih.t())  # (L, N, 4 * hidden_size), every time step at once
        if bias is not None:
            input_gates = input_gates + bias
        weight_hh_t = weight_hh.t()
        weight_hr_t = weight_hr.t() if weight_hr is not None else None
        length = input.shape[0]
        outputs = [None] * length
        for t in (reversed(range(length)) if direction == 1 else range(length)):
            i, f, g, o = (input_gates[t] + h.matmul(weight_hh_t)).chunk(4, 1)
            c = f.sigmoid() * c + i.sigmoid() * g.tanh()
            h = o.sigmoid() * c.tanh()
            if weight_hr_t is not None:
                h = h.matmul(weight_hr_t)
            outputs[t] = h
        return stack(outputs), h, c

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            text += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if self.batch_first is not False:
            text += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            text += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            text += f", bidirectional={self.bidirectional}"
        return text
