"""The result cache: what the analysis of a repository printed, reused while nothing it
was computed from has changed.

Everything after extraction (linking, ownership, the graph, the plans and the document)
is a function of the per-file facts and of the settings. Its output is stored under a key
made of exactly those:

- the digest of each file's facts (`cache.facts_digest`), in order, which the fact cache
  keeps beside each entry, so an unchanged repository is answered without decoding any;
- the files skipped and the repository's layout (DAGs folders, import roots and why);
- mesh.yaml as read, the rule pack in force (with its environment), CODEOWNERS;
- the tool version and the code of the whole package.

A file touched without changing its facts (a comment, a formatting change) keeps the key.

``ROOT/.mesh-migrate-cache/analysis-<name>``: a signature line, the key, then the output.
As the fact document, it is signed with this user's key (see `cache.py`) and ignored
unless it verifies, so an edited or foreign file never changes a result; it is written
atomically inside the cache folder, and only the latest analysis is kept.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from . import __version__, cache

FORMAT = 1
_SIGNATURE = b"mesh-migrate-analysis hmac-sha256 "


@lru_cache(maxsize=None)
def package_fingerprint() -> str:
    """Every module of the package: any of them can change what is printed."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0")
        digest.update(source.read_bytes())
    return digest.hexdigest()


def analysis_key(settings: Sequence[Any], files: Sequence[str], digests: Sequence[str]) -> str:
    """The key of an analysis: SETTINGS (plain data or dataclasses, compared by their
    repr) and the facts digest of each of FILES."""
    digest = hashlib.sha256(json.dumps([FORMAT, package_fingerprint(), [repr(s) for s in settings]]).encode())
    for path, facts in zip(files, digests, strict=True):
        digest.update(f"\0{path}\0{facts}".encode())
    return digest.hexdigest()


def _file(directory: Path, name: str) -> Path:
    return directory / f"analysis-{name}"


def load_output(directory: Path, name: str, key: str, secret: bytes) -> bytes | None:
    """The output NAME stored under KEY, if a verified one is there."""
    wanted = key.encode() + b"\n"  # another key: not worth verifying a large output
    body = cache.load_signed(_file(directory, name), secret, _SIGNATURE, starting=wanted)
    if body is None:
        return None
    stored, _, output = body.partition(b"\n")
    return output if stored == key.encode() else None


def save_output(directory: Path, name: str, key: str, secret: bytes, output: bytes) -> str | None:
    """Store OUTPUT under KEY; a warning instead of an exception when that fails."""
    try:
        cache.save_signed(directory, _file(directory, name).name, [key.encode() + b"\n", output], secret, _SIGNATURE)
    except OSError as exc:
        return f"result cache not written to {directory}: {exc.strerror or exc}"
    return None
