"""Training end to end: a small CNN learns a separable image task, and the MNIST recipe resumes exactly."""
import numpy as np

import tensorlite as tl
import tensorlite.nn.functional as F
from tensorlite import nn
from tensorlite.data import DataLoader, TensorDataset
from tensorlite.train import TrainConfig, train


def bars(n, seed):
    """Noisy 12x12 images of a vertical bar (class 0) or a horizontal bar (class 1), at random positions."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    images = rng.normal(0, 0.2, (n, 1, 12, 12)).astype(np.float32)
    for image, label, at in zip(images, labels, rng.integers(2, 10, n)):
        if label == 0:
            image[0, :, at] += 1.0
        else:
            image[0, at, :] += 1.0
    return tl.tensor(images), tl.tensor(labels)


def test_small_cnn_learns_bars_to_full_accuracy():
    tl.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 5 * 5, 2)
    )
    optimizer = tl.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(*bars(256, seed=0)), batch_size=32, shuffle=True)
    for _ in range(10):
        for images, labels in loader:
            optimizer.zero_grad()
            F.cross_entropy(model(images), labels).backward()
            optimizer.step()
    test_images, test_labels = bars(200, seed=1)
    with tl.no_grad():
        accuracy = (model(test_images).argmax(dim=1) == test_labels).float().mean().item()
    assert accuracy == 1.0


def test_resumed_run_continues_with_identical_parameters(tiny_mnist):
    config = dict(batch_size=32, root=str(tiny_mnist / "data"), seed=3)
    straight = train(TrainConfig(epochs=2, out=str(tiny_mnist / "straight"), **config))
    train(TrainConfig(epochs=1, out=str(tiny_mnist / "split"), **config))
    resumed = train(TrainConfig(epochs=2, out=str(tiny_mnist / "resumed"), resume=str(tiny_mnist / "split" / "epoch_1.npz"), **config))
    assert resumed.history["epoch"] == [1, 2]
    for key, value in straight.model.state_dict().items():
        np.testing.assert_array_equal(resumed.model.state_dict()[key].numpy(), value.numpy(), err_msg=key)
    checkpoint = tl.load(tiny_mnist / "straight" / "epoch_2.npz")
    assert checkpoint["epoch"] == 2 and sorted(checkpoint["model"]) == sorted(straight.model.state_dict())


def test_mnist_net_shapes_and_parameter_count():
    from tensorlite.train import MNISTNet

    model = MNISTNet()
    assert model(tl.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert sum(p.numel() for p in model.parameters()) == 8490
    assert list(model.state_dict()) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"]
