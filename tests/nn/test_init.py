"""nn.init: torch's gains, fans and bounds; in place on Parameters; reproducible with tl.manual_seed."""
import math

import numpy as np
import pytest

import tensorlite as tl
from tensorlite.nn import init


@pytest.mark.parametrize(
    "nonlinearity, param, gain",
    [
        ("linear", None, 1.0), ("conv2d", None, 1.0), ("sigmoid", None, 1.0), ("tanh", None, 5 / 3),
        ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01**2))),
        ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)), ("selu", None, 0.75),
    ],
)
def test_calculate_gain(nonlinearity, param, gain):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(gain)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fans():
    assert init.calculate_fan_in_and_fan_out(tl.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(tl.empty(10, 5, 3, 3)) == (45, 90)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.calculate_fan_in_and_fan_out(tl.empty(4))


def sample(fill, shape=(200, 300), **kwargs):
    tl.manual_seed(0)
    param = tl.nn.Parameter(tl.empty(shape))
    assert fill(param, **kwargs) is param  # in place, even though the Parameter requires grad
    assert param.requires_grad and param.grad_fn is None
    return param.detach().numpy()


# name: (fill, kwargs, expected bound of a uniform (or None), expected std); weight (200, 300): fan_in 300, fan_out 200
SCHEMES = {
    "uniform": (init.uniform_, {"a": -2.0, "b": 2.0}, 2.0, 2 / math.sqrt(3)),
    "normal": (init.normal_, {"mean": 0.0, "std": 0.5}, None, 0.5),
    "xavier_uniform": (init.xavier_uniform_, {"gain": 2.0}, 2 * math.sqrt(6 / 500), 2 * math.sqrt(2 / 500)),
    "xavier_normal": (init.xavier_normal_, {}, None, math.sqrt(2 / 500)),
    "kaiming_uniform": (init.kaiming_uniform_, {"nonlinearity": "relu"}, math.sqrt(6 / 300), math.sqrt(2 / 300)),
    "kaiming_uniform_linear": (init.kaiming_uniform_, {"a": math.sqrt(5)}, 1 / math.sqrt(300), 1 / math.sqrt(900)),
    "kaiming_normal_fan_out": (init.kaiming_normal_, {"mode": "fan_out", "nonlinearity": "relu"}, None, math.sqrt(2 / 200)),
}


@pytest.mark.parametrize("name", SCHEMES)
def test_scheme_statistics(name):
    fill, kwargs, bound, std = SCHEMES[name]
    values = sample(fill, **kwargs)
    np.testing.assert_allclose(values.std(), std, rtol=0.02)
    assert abs(values.mean()) < 0.02 * std
    if bound is not None:
        assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound


def test_same_seed_same_weights_and_generators():
    np.testing.assert_array_equal(sample(init.kaiming_uniform_), sample(init.kaiming_uniform_))
    g1, g2 = tl.Generator().manual_seed(3), tl.Generator().manual_seed(3)
    a, b = tl.empty(3, 3), tl.empty(3, 3)
    np.testing.assert_array_equal(init.normal_(a, generator=g1).numpy(), init.normal_(b, generator=g2).numpy())


def test_constant_zeros_ones():
    p = tl.nn.Parameter(tl.empty(2, 3))
    assert np.all(init.constant_(p, 0.3).detach().numpy() == np.float32(0.3))
    assert np.all(init.zeros_(p).detach().numpy() == 0)
    assert np.all(init.ones_(p).detach().numpy() == 1)


def test_kaiming_errors_and_empty_tensors():
    with pytest.raises(ValueError, match=r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_uniform_(tl.empty(2, 2), mode="fan_avg")
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_normal_(tl.empty(0, 3))
