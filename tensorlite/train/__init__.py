"""Training recipes behind ``tensorlite train``: the MNIST lesson's network and loop."""
from .mnist import MNISTNet, TrainConfig, train, train_and_report  # noqa: F401
