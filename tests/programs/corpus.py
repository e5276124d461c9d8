"""The public PyTorch programs the compatibility tests run: where each one lives, pinned to a commit and a SHA-256.

The programs themselves are not part of this repository: fetch them into a folder once, then point the tests at it::

    python -m tests.programs.corpus ~/tensorlite-programs          # downloads each file, checks its SHA-256
    TENSORLITE_PROGRAMS=~/tensorlite-programs python -m pytest tests/programs

Each file is saved under the name in the first column, byte for byte as the repository holds it at that commit.
"""
import hashlib
import sys
import urllib.request
from pathlib import Path

# (file name, repository, path in it, commit, licence, SHA-256 of the file)
SOURCES = [
    ("examples_mnist.py", "pytorch/examples", "mnist/main.py", "77f55b912142e11fcfdf5b530231fb9c52f181e8",
     "BSD-3-Clause", "30a3359d1911d2d859dd090ce20be7ed132a33f508dc389f40366010b3e9ecc8"),
    ("examples_mnist_rnn.py", "pytorch/examples", "mnist_rnn/main.py", "77f55b912142e11fcfdf5b530231fb9c52f181e8",
     "BSD-3-Clause", "ebd462cfda1fc8ace2160e8a99e6f97125802e645f924c049ed5e63a0666b019"),
    ("examples_regression.py", "pytorch/examples", "regression/main.py", "77f55b912142e11fcfdf5b530231fb9c52f181e8",
     "BSD-3-Clause", "87ba43405ca6df6ef1e24e6ee85bfb0cfff95df3bbaf5794d4662308184a90a0"),
    ("examples_vae.py", "pytorch/examples", "vae/main.py", "77f55b912142e11fcfdf5b530231fb9c52f181e8",
     "BSD-3-Clause", "366116e8252ac68ef1f180cce0b3c017f5a957595d863c8d4904210a80cdab6d"),
    ("tutorials_polynomial_tensor.py", "pytorch/tutorials", "beginner_source/examples_tensor/polynomial_tensor.py",
     "088bc52a76551211d2499b1cca69a677eba59236", "BSD-3-Clause",
     "2350529f1af7fcf1e325d550f3a7c18a47b4f5d006d754adb29f51f9021e1736"),
    ("tutorials_polynomial_autograd.py", "pytorch/tutorials",
     "beginner_source/examples_autograd/polynomial_autograd.py", "92f11a171bb3f3f6bbd8dfb102c59d67c2385032",
     "BSD-3-Clause", "fe33b9be763dc8ca1425e485930d355eef5bf263956d8f91ea166b85c970f97c"),
    ("tutorials_polynomial_custom_function.py", "pytorch/tutorials",
     "beginner_source/examples_autograd/polynomial_custom_function.py", "02ed6c5cf613bbf2b631704eee62033b8bd746ef",
     "BSD-3-Clause", "234e56798d99524987eac268db386204873d9372330d4ef8b31a78715a28a488"),
    ("tutorials_polynomial_nn.py", "pytorch/tutorials", "beginner_source/examples_nn/polynomial_nn.py",
     "02d7694195db7543ff85fd72177d1f1adca7784a", "BSD-3-Clause",
     "4107ca7ee92f0c0a3ae7fc2ed296c3fda7b5d360927dbbd7036d984f84a590c5"),
    ("tutorials_polynomial_optim.py", "pytorch/tutorials", "beginner_source/examples_nn/polynomial_optim.py",
     "02d7694195db7543ff85fd72177d1f1adca7784a", "BSD-3-Clause",
     "a47f95f04a73d85870f4fdb49c3ca7348fd8293854e41a149c7e04afe2f399a7"),
    ("tutorials_polynomial_module.py", "pytorch/tutorials", "beginner_source/examples_nn/polynomial_module.py",
     "1d189709801e98f5f184af0567c7f06b8b5156c2", "BSD-3-Clause",
     "bc44bcec75843b634f930faa3117ca9a52b8de6bdea804a838ea62b0ebec04a2"),
    ("yunjey_pytorch_basics.py", "yunjey/pytorch-tutorial", "tutorials/01-basics/pytorch_basics/main.py",
     "0500d3df5a2a8080ccfccbc00aca0eacc21818db", "MIT",
     "48b9b66d899b2f47e42af38f7aa6f4a0cafea54c27caf0816e93e8fed277d512"),
    ("yunjey_linear_regression.py", "yunjey/pytorch-tutorial", "tutorials/01-basics/linear_regression/main.py",
     "0500d3df5a2a8080ccfccbc00aca0eacc21818db", "MIT",
     "dc0db1d101ee3f31aa0ee482aeaa08d139da554b31db06862bb7a07dd942c336"),
    ("yunjey_logistic_regression.py", "yunjey/pytorch-tutorial", "tutorials/01-basics/logistic_regression/main.py",
     "0500d3df5a2a8080ccfccbc00aca0eacc21818db", "MIT",
     "017a7868cc0f6ae3eca8d0898e38523c46fb5659283e951396d0449694d0dc11"),
    ("yunjey_feedforward_neural_network.py", "yunjey/pytorch-tutorial",
     "tutorials/01-basics/feedforward_neural_network/main.py", "0500d3df5a2a8080ccfccbc00aca0eacc21818db", "MIT",
     "d7eaa8ea62b3063c31ad662b73d2d9c8c32ac09c80f7485fc47534687b9c7a14"),
    ("yunjey_convolutional_neural_network.py", "yunjey/pytorch-tutorial",
     "tutorials/02-intermediate/convolutional_neural_network/main.py", "0500d3df5a2a8080ccfccbc00aca0eacc21818db",
     "MIT", "2d5b1aeec7e17307dc89bf1f71b6bb4cf2d752516552642053fa68aa2fb77615"),
    ("yunjey_recurrent_neural_network.py", "yunjey/pytorch-tutorial",
     "tutorials/02-intermediate/recurrent_neural_network/main.py", "0500d3df5a2a8080ccfccbc00aca0eacc21818db", "MIT",
     "d273653d77f906422fb5669dc1d100b94a98ca8faacca3c18a310a5fa67d132b"),
]
SHA256 = {name: digest for name, *_, digest in SOURCES}


def url(repository, path, commit):
    return f"https://raw.githubusercontent.com/{repository}/{commit}/{path}"


def is_pinned(file):
    """Whether ``file`` (a Path) holds exactly the pinned version of the program it is named after."""
    return file.is_file() and hashlib.sha256(file.read_bytes()).hexdigest() == SHA256[file.name]


def fetch(folder):
    """Download every program into ``folder`` (those already there, at the pinned version, are kept)."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    for name, repository, path, commit, _, digest in SOURCES:
        target = folder / name
        if is_pinned(target):
            continue
        with urllib.request.urlopen(url(repository, path, commit), timeout=30) as response:
            data = response.read()
        if hashlib.sha256(data).hexdigest() != digest:
            raise RuntimeError(f"{url(repository, path, commit)} does not have the pinned SHA-256 {digest}")
        target.write_bytes(data)
        print(f"{name}: {repository}/{path} at {commit[:12]}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.programs.corpus FOLDER")
    fetch(sys.argv[1])
