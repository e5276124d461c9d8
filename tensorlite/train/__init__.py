"""Training recipes behind ``tensorlite train``: the MNIST lesson's network and loop."""
from .mnist import MNISTNet, TrainConfig, TrainingError, train, train_and_report

__all__ = ["MNISTNet", "TrainConfig", "TrainingError", "train", "train_and_report"]
