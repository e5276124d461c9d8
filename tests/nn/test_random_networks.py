"""Random small CNNs trained in tensorlite and in torch from the same weights (tests/nn/networks.py): 3 steps of a
random loss, clipping, optimiser (in one or two parameter groups), learning-rate schedule and resume from a state_dict,
then eval; every loss, parameter, buffer and the eval output must agree, in
float64 and in float32. 120 networks here, in blocks (a failure names its seeds); the long run:
``python -m tests.nn.networks --count 2000 --seed 0``."""
import pytest

pytest.importorskip("torch")

from tests.nn.networks import TOLERANCES, compare, random_network, report  # noqa: E402

BLOCKS, BLOCK_SIZE, SHOWN = 3, 20, 3


@pytest.mark.parametrize("dtype", sorted(TOLERANCES))
@pytest.mark.parametrize("first_seed", range(0, BLOCKS * BLOCK_SIZE, BLOCK_SIZE))
def test_random_networks_train_as_in_torch(first_seed, dtype):
    failures = []
    for seed in range(first_seed, first_seed + BLOCK_SIZE):
        network = random_network(seed, dtype)
        mismatch = compare(network)
        if mismatch:
            failures.append(report(network, mismatch))
    if failures:
        shown = "\n\n".join(failures[:SHOWN])
        pytest.fail(f"{len(failures)} of {BLOCK_SIZE} networks differ from torch; the first:\n\n{shown}", pytrace=False)


def test_the_harness_finds_a_wrong_gradient(monkeypatch):
    """With relu's backward passing every gradient through (no mask), networks with a ReLU are caught, those whose
    ReLU has a layer with parameters before it (else it gets no backward), meets a negative input (not after
    Sigmoid or Softplus) and does not make both libraries raise. Seeds 80 to 129 draw seven such networks."""
    import tensorlite as tl
    from tensorlite.backends import backend_for

    networks = [random_network(seed, "float64") for seed in range(80, 130)]
    with_relu = [network for network in networks if any(layer.startswith("nn.ReLU(") for layer in network.layers)]
    monkeypatch.setattr(backend_for(tl.device("cpu")), "relu_backward", lambda grad, out: grad.copy())
    caught = [network for network in with_relu if compare(network)]
    assert len(caught) >= 5, (len(caught), len(with_relu))


def test_the_harness_finds_a_lost_optimizer_state(monkeypatch):
    """With load_state_dict dropping the per-parameter state (momentum buffers, Adam's moments), the networks that
    resume after their first step with such state are caught."""
    from tensorlite.optim.optimizer import Optimizer

    load = Optimizer.load_state_dict
    monkeypatch.setattr(Optimizer, "load_state_dict", lambda self, state: load(self, {**state, "state": {}}))
    networks = [random_network(seed, "float64") for seed in range(40)]
    stateful = [network for network in networks
                if network.resume and ("momentum=0.9" in network.optimizer or "Adam" in network.optimizer)]
    caught = [network for network in stateful if compare(network)]
    assert len(caught) >= 3 and len(caught) >= len(stateful) - 1, (len(caught), len(stateful))
