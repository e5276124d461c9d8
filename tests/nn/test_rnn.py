"""LSTM: parameters, shapes, torch's errors, and outputs, final states and gradients equal torch's."""
import math
import warnings

import numpy as np
import pytest

import tensorlite as tl
from tests.helpers import torch_or_skip

nn = tl.nn


def _pair(torch, dtype=np.float64, seed=0, **kwargs):
    """A torch LSTM and a tensorlite LSTM holding the same weights."""
    torch.manual_seed(seed)
    double = dtype == np.float64
    theirs = torch.nn.LSTM(**kwargs, dtype=torch.float64 if double else torch.float32)
    ours = nn.LSTM(**kwargs, dtype=tl.float64 if double else tl.float32)
    ours.load_state_dict({k: tl.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _compare(torch, ours, theirs, x, hx=None, dtype=np.float64, rtol=1e-7, atol=1e-10):
    """Run both LSTMs on ``x`` (and ``hx``), backpropagate the same random upstream gradients into the output
    and both final states, and compare values and the gradients of every parameter, the input and hx."""
    rng = np.random.default_rng(1)
    tl_x, torch_x = tl.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    tl_args, torch_args = [tl_x], [torch_x]
    if hx is not None:
        tl_hx = tuple(tl.tensor(s, requires_grad=True) for s in hx)
        torch_hx = tuple(torch.tensor(s, requires_grad=True) for s in hx)
        tl_args.append(tl_hx)
        torch_args.append(torch_hx)
    tl_out, (tl_h, tl_c) = ours(*tl_args)
    torch_out, (torch_h, torch_c) = theirs(*torch_args)
    ups = [rng.standard_normal(tuple(t.shape)).astype(dtype) for t in (torch_out, torch_h, torch_c)]
    for a, b in zip((tl_out, tl_h, tl_c), (torch_out, torch_h, torch_c)):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)
    for lib, outputs in ((tl, (tl_out, tl_h, tl_c)), (torch, (torch_out, torch_h, torch_c))):
        sum((t * lib.tensor(u)).sum() for t, u in zip(outputs, ups)).backward()
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(), rtol=rtol, atol=atol, err_msg=name)
    np.testing.assert_allclose(tl_x.grad.numpy(), torch_x.grad.numpy(), rtol=rtol, atol=atol)
    if hx is not None:
        for a, b in zip(tl_hx, torch_hx):
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=rtol, atol=atol)


def _data(*shape, dtype=np.float64, seed=2):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


CASES = {
    "one_layer": (dict(input_size=3, hidden_size=5), (7, 4, 3)),
    "two_layers": (dict(input_size=3, hidden_size=5, num_layers=2), (6, 2, 3)),
    "batch_first": (dict(input_size=3, hidden_size=4, batch_first=True), (2, 6, 3)),
    "bidirectional": (dict(input_size=3, hidden_size=4, bidirectional=True), (5, 3, 3)),
    "bidirectional_two_layers_batch_first": (
        dict(input_size=2, hidden_size=3, num_layers=2, bidirectional=True, batch_first=True),
        (3, 5, 2),
    ),
    "unbatched": (dict(input_size=3, hidden_size=5, num_layers=2), (6, 3)),
    "no_bias": (dict(input_size=3, hidden_size=5, bias=False), (5, 2, 3)),
    "projection": (dict(input_size=3, hidden_size=6, proj_size=2, num_layers=2, bidirectional=True), (4, 2, 3)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_lstm_matches_torch_float64(case):
    torch = torch_or_skip()
    kwargs, shape = CASES[case]
    ours, theirs = _pair(torch, **kwargs)
    _compare(torch, ours, theirs, _data(*shape))


@pytest.mark.parametrize("case", ["one_layer", "bidirectional_two_layers_batch_first"])
def test_lstm_matches_torch_float32(case):
    torch = torch_or_skip()
    kwargs, shape = CASES[case]
    ours, theirs = _pair(torch, dtype=np.float32, **kwargs)
    _compare(torch, ours, theirs, _data(*shape, dtype=np.float32), dtype=np.float32, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("batched", [True, False])
def test_lstm_with_given_initial_states_matches_torch(batched):
    torch = torch_or_skip()
    ours, theirs = _pair(torch, input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    batch = (2,) if batched else ()
    x = _data(5, *batch, 3)
    hx = (_data(4, *batch, 4, seed=3), _data(4, *batch, 4, seed=4))
    _compare(torch, ours, theirs, x, hx)


def test_lstm_state_dict_keys_and_shapes_equal_torchs():
    torch = torch_or_skip()
    for kwargs in (
        dict(input_size=3, hidden_size=5, num_layers=2, bidirectional=True),
        dict(input_size=3, hidden_size=5, bias=False),
        dict(input_size=3, hidden_size=5, num_layers=2, proj_size=2),
    ):
        ours, theirs = nn.LSTM(**kwargs).state_dict(), torch.nn.LSTM(**kwargs).state_dict()
        assert list(ours) == list(theirs)
        assert [tuple(v.shape) for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]


def test_lstm_parameters_and_shapes():
    lstm = nn.LSTM(3, 5, num_layers=2, bidirectional=True)
    assert lstm.weight_ih_l0.shape == (20, 3) and lstm.weight_hh_l0.shape == (20, 5)
    assert lstm.weight_ih_l1.shape == (20, 10) and lstm.bias_hh_l1_reverse.shape == (20,)
    out, (h, c) = lstm(tl.randn(7, 4, 3))
    assert out.shape == (7, 4, 10) and h.shape == (4, 4, 5) and c.shape == (4, 4, 5)
    assert nn.LSTM(3, 5, dtype=tl.float64).weight_ih_l0.dtype is tl.float64


def test_lstm_init_is_uniform_within_one_over_sqrt_hidden():
    tl.manual_seed(0)
    lstm = nn.LSTM(50, 100)
    bound = 1 / math.sqrt(100)
    for name, p in lstm.named_parameters():
        values = p.detach().numpy()
        assert np.abs(values).max() <= bound, name
        assert np.abs(values).max() > 0.95 * bound, name
    np.testing.assert_allclose(lstm.weight_hh_l0.detach().numpy().std(), bound / math.sqrt(3), rtol=0.02)


def test_lstm_repr_equals_torchs():
    torch = torch_or_skip()
    kwargs = dict(input_size=3, hidden_size=5, num_layers=2, bias=False, batch_first=True, dropout=0.1,
                  bidirectional=True)
    assert repr(nn.LSTM(**kwargs)) == repr(torch.nn.LSTM(**kwargs))
    assert repr(nn.LSTM(3, 5)) == repr(torch.nn.LSTM(3, 5))


BAD_CALLS = {
    "wrong_input_size": (lambda t: (t.randn(2, 4, 4),)),
    "four_dims": (lambda t: (t.randn(2, 3, 4, 3),)),
    "one_dim": (lambda t: (t.randn(3),)),
    "wrong_h0_batch": (lambda t: (t.randn(2, 4, 3), (t.zeros(2, 3, 5), t.zeros(2, 4, 5)))),
    "wrong_c0_size": (lambda t: (t.randn(2, 4, 3), (t.zeros(2, 4, 5), t.zeros(2, 4, 6)))),
    "wrong_states_count": (lambda t: (t.randn(2, 4, 3), (t.zeros(1, 4, 5), t.zeros(1, 4, 5)))),
    "unbatched_states_for_batched_input": (lambda t: (t.randn(2, 4, 3), (t.zeros(2, 5), t.zeros(2, 5)))),
    "batched_states_for_unbatched_input": (lambda t: (t.randn(4, 3), (t.zeros(2, 1, 5), t.zeros(2, 1, 5)))),
    "wrong_unbatched_h0": (lambda t: (t.randn(4, 3), (t.zeros(2, 6), t.zeros(2, 5)))),
}


@pytest.mark.parametrize("case", list(BAD_CALLS))
def test_lstm_bad_input_raises_torchs_error(case):
    torch = torch_or_skip()
    with pytest.raises(Exception) as expected:
        torch.nn.LSTM(3, 5, num_layers=2)(*BAD_CALLS[case](torch))
    with pytest.raises(type(expected.value)) as got:
        nn.LSTM(3, 5, num_layers=2)(*BAD_CALLS[case](tl))
    assert str(got.value) == str(expected.value)


BAD_ARGUMENTS = [
    dict(dropout=1.5),
    dict(dropout=True),
    dict(hidden_size=0),
    dict(input_size=0),
    dict(num_layers=0),
    dict(proj_size=-1),
    dict(proj_size=5),
    dict(bias=1),
    dict(batch_first=None),
    dict(hidden_size=5.0),
]


@pytest.mark.parametrize("kwargs", BAD_ARGUMENTS, ids=str)
def test_lstm_bad_arguments_raise_torchs_error(kwargs):
    torch = torch_or_skip()
    arguments = {"input_size": 3, "hidden_size": 5, **kwargs}
    with pytest.raises(Exception) as expected:
        torch.nn.LSTM(**arguments)
    with pytest.raises(type(expected.value)) as got:
        nn.LSTM(**arguments)
    assert str(got.value) == str(expected.value)


def test_lstm_dropout_with_one_layer_warns_as_torch():
    torch = torch_or_skip()
    with pytest.warns(UserWarning) as expected:
        torch.nn.LSTM(3, 5, dropout=0.5)
    with pytest.warns(UserWarning) as got:
        nn.LSTM(3, 5, dropout=0.5)
    assert [str(w.message) for w in got] == [str(w.message) for w in expected]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 5, num_layers=2, dropout=0.5)


def test_lstm_dropout_applies_between_layers_in_training_only():
    tl.manual_seed(0)
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5)
    plain = nn.LSTM(3, 4, num_layers=2)
    plain.load_state_dict(lstm.state_dict())
    x = tl.randn(5, 2, 3)
    trained, _ = lstm(x)
    reference, _ = plain(x)
    assert not np.allclose(trained.detach().numpy(), reference.detach().numpy())
    lstm.eval()
    evaluated, _ = lstm(x)
    np.testing.assert_array_equal(evaluated.detach().numpy(), reference.detach().numpy())


def test_lstm_training_decreases_the_loss():
    tl.manual_seed(0)
    lstm, head = nn.LSTM(2, 8, batch_first=True), nn.Linear(8, 1)
    optimizer = tl.optim.SGD(list(lstm.parameters()) + list(head.parameters()), lr=0.5)
    x = tl.tensor(_data(16, 6, 2, dtype=np.float32))
    target = x.sum(dim=(1, 2)).unsqueeze(1) * 0.1  # a function of the whole sequence
    losses = []
    for _ in range(20):
        _, (h_n, _) = lstm(x)
        loss = nn.functional.mse_loss(head(h_n[-1]), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
