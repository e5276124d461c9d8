"""The corpus manifest: every program pinned by commit and SHA-256, and a file counts only if it is that version."""
import hashlib
import re

from tests.programs import corpus
from tests.programs.test_programs import CASES


def test_every_program_the_tests_run_is_pinned_once():
    names = [name for name, *_ in corpus.SOURCES]
    assert len(names) == len(set(names)) and sorted(names) == sorted(case.file for case in CASES)
    for name, repository, path, commit, licence, digest in corpus.SOURCES:
        assert re.fullmatch(r"[0-9a-f]{40}", commit) and re.fullmatch(r"[0-9a-f]{64}", digest), name
        assert corpus.url(repository, path, commit) == f"https://raw.githubusercontent.com/{repository}/{commit}/{path}"


def test_only_the_pinned_bytes_count(tmp_path):
    name = corpus.SOURCES[0][0]
    file = tmp_path / name
    assert not corpus.is_pinned(file)  # missing
    file.write_text("import torch\n")
    assert hashlib.sha256(file.read_bytes()).hexdigest() != corpus.SHA256[name] and not corpus.is_pinned(file)
