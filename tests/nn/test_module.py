"""Module API: registration, the tree walks, state_dict / load_state_dict, modes, device and dtype moves, repr."""
import numpy as np
import pytest

import tensorlite as tl
from tests.helpers import torch_or_skip

nn = tl.nn


def make_net(lib):
    """The same model in tensorlite (``lib=tl``) or torch (``lib=torch``)."""

    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.features = lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU())
            self.scale = lib.nn.Parameter(lib.ones(1))
            self.blocks = lib.nn.ModuleList([lib.nn.Linear(8, 8), lib.nn.Linear(8, 8, bias=False)])
            self.heads = lib.nn.ModuleDict({"out": lib.nn.Linear(8, 2)})
            self.register_buffer("steps", lib.zeros((), dtype=lib.int64))
            self.register_buffer("cache", lib.zeros(2), persistent=False)

        def forward(self, x):
            x = self.features(x) * self.scale
            for block in self.blocks:
                x = block(x)
            return self.heads["out"](x)

    return Net()


NET_PARAMETERS = [
    "scale", "features.0.weight", "features.0.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
    "heads.out.weight", "heads.out.bias",
]
NET_STATE = NET_PARAMETERS[:1] + ["steps"] + NET_PARAMETERS[1:]  # own parameters, own buffers, then children
NET_MODULES = ["", "features", "features.0", "features.1", "blocks", "blocks.0", "blocks.1", "heads", "heads.out"]
NET_REPR = """Net(
  (features): Sequential(
    (0): Linear(in_features=4, out_features=8, bias=True)
    (1): ReLU()
  )
  (blocks): ModuleList(
    (0): Linear(in_features=8, out_features=8, bias=True)
    (1): Linear(in_features=8, out_features=8, bias=False)
  )
  (heads): ModuleDict(
    (out): Linear(in_features=8, out_features=2, bias=True)
  )
)"""


# --------------------------------------------------------------------- Parameter
def test_parameter_is_a_leaf_that_requires_grad_and_shares_storage():
    data = tl.zeros(3)
    p = nn.Parameter(data)
    assert isinstance(p, tl.Tensor) and p.requires_grad and p.is_leaf
    data[0] = 5.0
    assert p[0].item() == 5.0
    assert not nn.Parameter(tl.ones(1), requires_grad=False).requires_grad
    assert nn.Parameter().shape == (0,)
    assert type(p * 2) is tl.Tensor


def test_parameter_repr():
    assert repr(nn.Parameter(tl.ones(2))) == "Parameter containing:\ntensor([1., 1.], requires_grad=True)"


# --------------------------------------------------------------------- registration
def test_attribute_assignment_registers_parameters_modules_and_buffers():
    net = make_net(tl)
    assert list(net._parameters) == ["scale"]
    assert list(net._modules) == ["features", "blocks", "heads"]
    assert list(net._buffers) == ["steps", "cache"]
    net.plain = tl.ones(1)  # a plain tensor attribute is not model state
    assert "plain" not in net.state_dict() and net.plain.shape == (1,)
    assert {"scale", "features", "steps"} <= set(dir(net))


def test_parameter_and_module_slots_accept_only_their_kind():
    layer = nn.Linear(2, 2)
    expected = r"cannot assign 'Tensor' as parameter 'weight' \(tensorlite.nn.Parameter or None expected\)"
    with pytest.raises(TypeError, match=expected):
        layer.weight = tl.zeros(2, 2)
    layer.bias = None
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    seq = nn.Sequential(nn.ReLU())
    with pytest.raises(TypeError, match="as child module '0'"):
        setattr(seq, "0", 3)


def test_registration_errors():
    layer = nn.Linear(2, 2)
    with pytest.raises(KeyError, match="attribute 'weight' already exists"):
        layer.register_buffer("weight", tl.zeros(1))
    with pytest.raises(KeyError, match="buffer name can.+t contain"):
        layer.register_buffer("a.b", tl.zeros(1))
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        layer.add_module("child", 3)
    with pytest.raises(TypeError, match="cannot assign 'list' object to buffer"):
        layer.register_buffer("stats", [1, 2])
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'missing'"):
        layer.missing


def test_assignment_before_init_is_explained():
    class Forgetful(nn.Module):
        def __init__(self):
            self.fc = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call"):
        Forgetful()


def test_delattr_unregisters():
    net = make_net(tl)
    del net.scale, net.steps, net.heads
    assert "scale" not in dict(net.named_parameters()) and "steps" not in net.state_dict()
    assert "heads" not in dict(net.named_children())


def test_forward_is_required_and_call_runs_it():
    with pytest.raises(NotImplementedError, match=r'Module \[Module\] is missing the required "forward" function'):
        nn.Module()(1)
    net = make_net(tl)
    assert net(tl.ones(3, 4)).shape == (3, 2)


# --------------------------------------------------------------------- walking the tree
def test_names_and_order():
    net = make_net(tl)
    assert [n for n, _ in net.named_parameters()] == NET_PARAMETERS
    assert list(net.state_dict()) == NET_STATE
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in net.named_modules()] == NET_MODULES
    assert [n for n, _ in net.named_children()] == ["features", "blocks", "heads"]
    assert len(list(net.parameters())) == 8 and len(list(net.buffers())) == 2
    assert len(list(net.parameters(recurse=False))) == 1
    assert repr(net) == NET_REPR


def test_names_order_and_repr_match_torch():
    torch = torch_or_skip()
    ours, theirs = make_net(tl), make_net(torch)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert repr(ours) == repr(theirs)


def test_shared_layers_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_apply_visits_children_first():
    visited = []
    make_net(tl).apply(lambda m: visited.append(type(m).__name__))
    assert visited[0] == "Linear" and visited[-1] == "Net" and len(visited) == 9


# --------------------------------------------------------------------- modes and gradients
def test_train_and_eval_propagate():
    net = make_net(tl)
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_zero_grad_and_requires_grad():
    net = make_net(tl)
    net(tl.ones(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


# --------------------------------------------------------------------- state dict
def test_state_dict_shares_storage_and_is_detached():
    layer = nn.Linear(3, 2)
    state = layer.state_dict()
    assert not state["weight"].requires_grad
    with tl.no_grad():
        layer.weight.fill_(1.0)
    assert np.all(state["weight"].numpy() == 1.0)


def test_load_state_dict_copies_in_place():
    source, target = make_net(tl), make_net(tl)
    with tl.no_grad():
        source.steps.fill_(7)
    weight = target.features[0].weight
    result = target.load_state_dict(source.state_dict())
    assert repr(result) == "<All keys matched successfully>"
    assert target.features[0].weight is weight  # an optimiser holding it stays valid
    x = tl.randn(2, 4)
    np.testing.assert_array_equal(target(x).detach().numpy(), source(x).detach().numpy())
    assert target.steps.item() == 7


def test_load_state_dict_reports_missing_unexpected_and_shape_errors():
    layer = nn.Linear(3, 4)
    with pytest.raises(RuntimeError) as info:
        layer.load_state_dict({"weight": tl.zeros(4, 2), "bias": tl.zeros(4), "extra": tl.zeros(1)})
    assert str(info.value) == (
        "Error(s) in loading state_dict for Linear:\n"
        '\tUnexpected key(s) in state_dict: "extra". \n'
        "\tsize mismatch for weight: copying a param with shape tensorlite.Size([4, 2]) from checkpoint, "
        "the shape in current model is tensorlite.Size([4, 3])."
    )
    with pytest.raises(RuntimeError, match='Missing key\\(s\\) in state_dict: "bias". '):
        layer.load_state_dict({"weight": tl.zeros(4, 3)})
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "1.bias", "0.x.y". '):
        nn.Sequential(nn.Linear(3, 4)).load_state_dict(
            {"0.weight": tl.zeros(4, 3), "1.bias": tl.zeros(4), "0.bias": tl.zeros(4), "0.x.y": tl.zeros(1)}
        )


def test_load_state_dict_not_strict_returns_the_key_lists():
    layer = nn.Linear(3, 4)
    result = layer.load_state_dict({"weight": tl.ones(4, 3), "extra": tl.zeros(1)}, strict=False)
    assert result.missing_keys == ["bias"] and result.unexpected_keys == ["extra"]
    assert repr(result) == "_IncompatibleKeys(missing_keys=['bias'], unexpected_keys=['extra'])"
    assert np.all(layer.weight.detach().numpy() == 1.0)
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        layer.load_state_dict({"weight": tl.ones(3, 3)}, strict=False)


def test_state_dict_round_trips_with_torch():
    torch = torch_or_skip()
    ours, theirs = make_net(tl), make_net(torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(tl.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)


# --------------------------------------------------------------------- dtype and device
def test_to_dtype_keeps_parameter_identity_and_integer_buffers():
    net = make_net(tl)
    params = list(net.parameters())
    net(tl.ones(1, 4)).sum().backward()
    assert net.to(tl.float64) is net
    assert [id(p) for p in net.parameters()] == [id(p) for p in params]
    assert all(p.dtype is tl.float64 and p.grad.dtype is tl.float64 for p in params)
    assert net.steps.dtype is tl.int64 and net.cache.dtype is tl.float64
    assert net(tl.ones(1, 4, dtype=tl.float64)).dtype is tl.float64
    net.float()
    assert all(p.dtype is tl.float32 for p in net.parameters())
    assert net.double().scale.dtype is tl.float64
    assert net.cpu().scale.device == tl.device("cpu")
    with pytest.raises(TypeError, match="only accepts floating point dtypes"):
        net.to(tl.int64)


@pytest.mark.skipif(not tl.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_moves_parameters_in_place():
    net = make_net(tl)
    weight = net.heads["out"].weight
    net.cuda()
    assert weight.device.type == "cuda" and net.steps.device.type == "cuda"
    assert net(tl.ones(2, 4, device="cuda")).device.type == "cuda"


# --------------------------------------------------------------------- containers
def test_sequential_indexing_slicing_and_append():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b)
    assert seq.append(c) is seq and len(seq) == 3
    assert seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and list(tail) == [b, c] and list(tail._modules) == ["1", "2"]
    assert seq(tl.ones(4, 2)).shape == (4, 1)
    with pytest.raises(IndexError, match="index 3 is out of range"):
        seq[3]
    del seq[0]
    assert list(seq._modules) == ["0", "1"] and seq[0] is b
    seq[1] = a
    assert seq[1] is a


def test_sequential_from_ordered_dict_uses_the_names():
    from collections import OrderedDict

    seq = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(seq.state_dict()) == ["fc.weight", "fc.bias"] and seq.act is seq[1]


def test_module_list():
    layers = nn.ModuleList([nn.Linear(2, 2)])
    layers.append(nn.ReLU()).extend([nn.Tanh()])
    layers.insert(1, nn.Sigmoid())
    assert [type(m).__name__ for m in layers] == ["Linear", "Sigmoid", "ReLU", "Tanh"]
    assert isinstance(layers[1:], nn.ModuleList) and len(layers[1:]) == 3
    assert layers[-1] is layers[3]
    assert [n for n, _ in layers.named_parameters()] == ["0.weight", "0.bias"]
    assert repr(nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])) == "ModuleList(\n  (0-1): 2 x ReLU()\n  (2): Tanh()\n)"
    assert repr(nn.ModuleList()) == "ModuleList()"


def test_module_dict():
    heads = nn.ModuleDict({"a": nn.Linear(2, 2)})
    heads["b"] = nn.ReLU()
    assert list(heads) == ["a", "b"] and "b" in heads and len(heads) == 2
    assert list(heads.keys()) == ["a", "b"] and isinstance(heads.pop("b"), nn.ReLU)
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias"]


def test_forward_pre_hook_sees_and_may_replace_the_inputs_until_removed():
    layer, seen = tl.nn.Identity(), []
    handle = layer.register_forward_pre_hook(lambda module, inputs: seen.append((module, inputs)))
    x = tl.ones(2)
    assert layer(x) is x and seen == [(layer, (x,))]
    handle.remove()
    doubling = layer.register_forward_pre_hook(lambda module, inputs: inputs[0] * 2)  # one value: the new input
    assert layer(x).tolist() == [2.0, 2.0] and len(seen) == 1
    doubling.remove()
    assert layer(x) is x
