# %% [markdown]
"""Lesson 9: the MNIST classifier, a short run.

The lesson's network (conv 1→10 k5, max-pool 2, relu, conv 10→20 k5, max-pool 2, relu, linear 320→10) with
the lesson's recipe (normalise by mean 0.1307 / std 0.3081, batch 64, SGD lr 0.01 momentum 0.5), trained for
one epoch on the first 19,200 training images and tested on all 10,000 test images. The full run,
``tensorlite train mnist``, trains three epochs on all 60,000 and reaches 98 %.

The data is fetched on first use (see docs/training.md); without any way to fetch it the demo says how to
place the files by hand and stops there. Pictures go to runs/demos/mnist/.
"""

# %%
from tensorlite.data.download import DatasetNotFoundError
from tensorlite.train import TrainConfig, TrainingError, train_and_report


# %%
def main():
    try:
        result = train_and_report(TrainConfig(epochs=1, limit=19_200, out="runs/demos/mnist"))
    except TrainingError as err:
        if not isinstance(err.__cause__, DatasetNotFoundError):  # any other reason is the lesson failing
            raise
        print(f"MNIST is not available here, so this lesson is skipped:\n{err}")
        return
    accuracy = result.history["test_accuracy"][-1]
    assert accuracy > 0.9, f"one short epoch should already pass 90 % test accuracy, got {accuracy:.2%}"


# %%
if __name__ == "__main__":
    main()
