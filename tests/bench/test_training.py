"""``tensorlite bench --recipe mnist``'s side-by-side table, on made-up histories (the runs themselves take minutes)."""
from tensorlite.bench.training import format_comparison


def test_comparison_has_a_row_per_epoch_with_the_time_ratio_and_the_memory():
    result = {
        "epochs": 2,
        "tensorlite": {"test_accuracy": [0.9, 0.95], "seconds": [10.0, 8.0], "peak_rss_mb": 291.4},
        "torch": {"test_accuracy": [0.91, 0.96], "seconds": [5.0, 10.0], "peak_rss_mb": 1206.0},
    }
    header, first, second, memory = format_comparison(result).splitlines()
    assert header.split("  ") == ["epoch", "tensorlite acc", "tensorlite s", "torch acc", "torch s", "tl/torch s"]
    assert first.split() == ["1", "90.00%", "10.0", "91.00%", "5.0", "2.00"]
    assert second.split() == ["2", "95.00%", "8.0", "96.00%", "10.0", "0.80"]
    assert memory == "peak resident memory: tensorlite 291 MB, torch 1,206 MB"
