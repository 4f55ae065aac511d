"""The fact cache: the FileFacts of files unchanged since the last run, reused unparsed.

One document per analyzed repository, ``ROOT/.mesh-migrate-cache/facts.json``: a line
``mesh-migrate-facts hmac-sha256 <hex digest>``, then JSON:

    {"header": {format, tool, code, rules, python_paths},"modules": {dotted name: how it resolved},"files":{
    path: [content hash, {dependency path: content hash}, facts as a row, facts digest],
    ...
    }}

one entry a line, so a run that extracted a few files writes every other entry back as
the text it read, without encoding it again.

The facts digest (see `facts_digest`) names a file's facts without decoding them: the
assembled analysis is cached under a key made of these digests (see `assembled.py`).

A stored fact is reused only when all of these are what they were when it was made:
the file's bytes, the bytes of every repository module its facts depend on, the header
(tool version and code, rule pack, import roots), and how every module name looked up
during extraction resolves (a new ``common/foo.py`` can turn an external name into a
repository module). One document, not a file per entry: a warm run needs every entry,
and one read and one ``json.loads`` beat thousands of small ones.

The cache is a folder of the analyzed repository, so its content is never trusted. The
document's first line is an HMAC-SHA256 of the rest, keyed with a secret of this user on
this machine, kept outside the cache folder and outside the repository
(``$XDG_CACHE_HOME/mesh-migrate/cache-key``, mode 0600). A digest of the content alone
would not do: whoever edits the document (by hand, another tool, a cache restored from
another CI job or committed by mistake) can recompute it, and an edited document can
silence findings (empty a file's dependencies, keep its content hash). Without the key
nobody can make a document that verifies, so an edited or foreign document is ignored
whole and rewritten. What the key does not stop is a process of the same user that reads
it, which could as well edit the repository or this tool.

Past the check, still: JSON only (nothing is unpickled), every entry is type-checked while
it is decoded, and the paths it names are read only inside the repository and only when
they are regular files of bounded size (never a FIFO or a device). Writes go to a
temporary file in the same folder, then ``os.replace``: concurrent runs never see half a
document, the last one to finish wins.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import os
import types
from dataclasses import dataclass, field, fields, is_dataclass
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, Union, get_args, get_origin, get_type_hints

from . import __version__
from .facts import FileFacts, SourceSpan
from .fsutil import read_regular_file, replace_file
from .jsontext import dumps_compact

CACHE_DIR_NAME = ".mesh-migrate-cache"
FACTS_FILE = "facts.json"
FORMAT = 4
MAX_DOCUMENT_BYTES = 1 << 30
_SIGNATURE = b"mesh-migrate-facts hmac-sha256 "
_KEY_BYTES = 32

# The code whose output is cached: a change to any of it makes every stored fact stale,
# even when the version number was not bumped (as while developing). Hashing it costs
# about a millisecond per run.
_CODE = ("facts.py", "rulepack.py", "cache.py", "extract")

DependencyHash = Callable[[str], "str | None"]


def cache_dir(root: Path, configured: Path | None = None) -> Path:
    return configured if configured is not None else root / CACHE_DIR_NAME


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@lru_cache(maxsize=None)
def code_fingerprint() -> str:
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256(__version__.encode())
    for name in _CODE:
        path = package / name
        for source in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(source.relative_to(package).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def cache_header(rules_fingerprint: str, python_paths: Sequence[str]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "tool": __version__,
        "code": code_fingerprint(),
        "rules": rules_fingerprint,
        "python_paths": list(python_paths),
    }


@dataclass(frozen=True)
class Snapshot:
    """What a previous run stored, as plain data; empty when nothing usable was found."""

    modules: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, Any] = field(default_factory=dict)
    body: bytes = b""  # the document as read

    @cached_property
    def texts(self) -> dict[str, bytes]:
        """Path -> its entry as read, when laid out as `save` writes it: worked out only
        when a run writes the document back (a warm run never does)."""
        return _entry_texts(self.body, self.files)


def key_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mesh-migrate" / "cache-key"


def machine_key(path: Path | None = None) -> bytes:
    """This user's secret for signing caches, made on first use; OSError when it can be
    neither read nor made."""
    path = path or key_path()
    try:
        return _read_key(path)
    except FileNotFoundError:
        _make_key(path, replace=False)
    except ValueError:  # not a key (edited, truncated): a new one, and every cache is rebuilt
        _make_key(path, replace=True)
    try:
        return _read_key(path)
    except ValueError:
        raise OSError(errno.EINVAL, "not a mesh-migrate cache key", str(path)) from None


def _read_key(path: Path) -> bytes:
    key = bytes.fromhex(read_regular_file(path, 2 * _KEY_BYTES).decode("ascii"))
    if len(key) != _KEY_BYTES:
        raise ValueError("short key")
    return key


def _make_key(path: Path, replace: bool) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(os.urandom(_KEY_BYTES).hex().encode())
    try:
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)  # never replaces: concurrent first runs agree on one key
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


def _signature(key: bytes, body: Sequence[bytes], prefix: bytes) -> bytes:
    """The signature line of a document whose BODY is these parts, one after another. Its
    megabytes are never joined or copied: each copy costs as much as the signature."""
    # The prefix names the kind of document and is signed too: one kind of document
    # never passes for another.
    mac = hmac.new(key, prefix, hashlib.sha256)
    for part in body:
        mac.update(part)
    return prefix + mac.hexdigest().encode() + b"\n"


def signed(body: bytes, key: bytes, prefix: bytes = _SIGNATURE) -> bytes:
    """The document file: its signature line, then BODY."""
    return _signature(key, [body], prefix) + body


def document_body(data: bytes) -> bytes:
    """The JSON of a document file, unverified."""
    return data.partition(b"\n")[2]


def load_signed(path: Path, key: bytes, prefix: bytes = _SIGNATURE, starting: bytes = b"") -> bytes | None:
    """The body of a signed document, or None when it is missing, unreadable or does not
    verify: only what this user's key signed is ever trusted. A body that does not start
    with STARTING is not wanted: it is refused before its signature is computed."""
    try:
        data = read_regular_file(path, MAX_DOCUMENT_BYTES)
    except OSError:
        return None
    body = document_body(data)
    if not body.startswith(starting):
        return None
    return body if hmac.compare_digest(_signature(key, [body], prefix), data[: len(data) - len(body)]) else None


def load(directory: Path, header: Mapping[str, Any], key: bytes) -> Snapshot:
    body = load_signed(directory / FACTS_FILE, key)
    if body is None:
        return Snapshot()
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return Snapshot()
    if not isinstance(document, dict) or document.get("header") != header:
        return Snapshot()
    modules, files = document.get("modules"), document.get("files")
    if not isinstance(modules, dict) or not isinstance(files, dict):
        return Snapshot()
    if not all(isinstance(v, str) for v in modules.values()):
        return Snapshot()
    return Snapshot(modules, files, body)


def _entry_texts(body: bytes, files: Mapping[str, Any]) -> dict[str, bytes]:
    """Each entry's text in a body laid out as `save` writes it, by path; empty for any
    other layout (the entries are then encoded again when written)."""
    lines = body.split(b"\n")
    if len(lines) != len(files) + 2:
        return {}
    texts: dict[str, bytes] = {}
    last = len(lines) - 2
    for number, (path, line) in enumerate(zip(files, lines[1:-1]), 1):
        name = _entry_name(path)
        if not line.startswith(name):
            return {}
        texts[path] = line[len(name) : None if number == last else -1]  # without the comma between entries
    return texts


def stale_modules(snapshot: Snapshot, resolve: Callable[[str], str]) -> bool:
    """Whether any module name stored resolves differently in today's tree."""
    return any(resolve(name) != how for name, how in snapshot.modules.items())


def entry_is_current(entry: Any, content: str, dependency_hash: DependencyHash) -> bool:
    """Whether `entry` is well formed and nothing its facts depend on changed (its facts
    are not decoded: see `decode_entry`)."""
    if not (isinstance(entry, list) and len(entry) == 4 and entry[0] == content and isinstance(entry[1], dict) and type(entry[3]) is str):
        return False
    return all(dependency_hash(dependency) == digest for dependency, digest in entry[1].items())


def entry_digest(entry: list[Any]) -> str:
    """The facts digest of an entry that `entry_is_current` accepted."""
    return entry[3]


def decode_entry(path: str, entry: list[Any]) -> FileFacts | None:
    try:
        return from_row(FileFacts, entry[2], path)
    except (TypeError, ValueError, KeyError):
        return None


@dataclass(frozen=True)
class EncodedFacts:
    """A file's facts as its cache entry holds them: the JSON text of their row, and their digest."""

    row: bytes
    digest: str


def encode_facts(facts: FileFacts) -> EncodedFacts:
    row = dumps_compact(to_row(facts, facts.path))
    # The digest of `[path, row]` in compact JSON: everything the facts say, path included.
    return EncodedFacts(row, content_hash(b"[" + dumps_compact(facts.path) + b"," + row + b"]"))


def facts_digest(facts: FileFacts) -> str:
    """A digest of everything a file's facts say, path included."""
    return encode_facts(facts).digest


def entry_text(encoded: EncodedFacts, content: str, dependencies: Mapping[str, str | None]) -> bytes:
    """The text of a new entry, as `save` writes it."""
    return b'["' + content.encode() + b'",' + dumps_compact(dependencies) + b"," + encoded.row + b',"' + encoded.digest.encode() + b'"]'


def entry_of(path: str, snapshot: Snapshot) -> bytes:
    """The text of an entry read from SNAPSHOT: as read, or encoded again when the
    document was laid out otherwise."""
    text = snapshot.texts.get(path)
    return text if text is not None else dumps_compact(snapshot.files[path])


def save(directory: Path, header: Mapping[str, Any], modules: Mapping[str, str], entries: Mapping[str, bytes], key: bytes) -> str | None:
    """Write the document, ENTRIES being each path's entry text, atomically; a warning
    instead of an exception when that fails."""
    head = dumps_compact({"header": dict(header), "modules": dict(modules)})
    body = [head[:-1] + b',"files":{\n', b",\n".join(_entry_name(path) + text for path, text in entries.items()), b"\n}}"]
    try:
        save_signed(directory, FACTS_FILE, body, key)
    except OSError as exc:
        return f"fact cache not written to {directory}: {exc.strerror or exc}"
    return None


def _entry_name(path: str) -> bytes:
    """What starts the line of PATH's entry: its JSON key."""
    return dumps_compact(path) + b":"


def save_signed(directory: Path, name: str, body: Sequence[bytes], key: bytes, prefix: bytes = _SIGNATURE) -> None:
    """Write DIRECTORY/NAME, signed, atomically, its BODY these parts one after another;
    OSError when that fails."""
    directory.mkdir(parents=True, exist_ok=True)
    if not (directory / ".gitignore").exists():
        # Everything in here, this file included: the cache is never committed.
        replace_file(directory / ".gitignore", b"*\n", durable=False)
    replace_file(directory / name, [_signature(key, body, prefix), *body], durable=False)  # a cache may be lost: no fsync


# ---- facts to and from plain data ---------------------------------------------------
#
# `from_plain` inverts `facts.to_plain` (dicts). The cache stores a denser form, "rows":
# each dataclass a list of its field values in order, and a SourceSpan in the file the
# entry is about as [line, column]: 40% fewer bytes, and lists decode faster than dicts.
# Both decoders are built once per class from its type hints and check every value.

Convert = Callable[[Any, str], Any]


def from_plain(cls: type, data: Any) -> Any:
    """The facts dataclass `cls` from `to_plain` output; TypeError, ValueError or KeyError
    on anything that does not match the class exactly, so bad data is never trusted."""
    return _decoder(cls, False)(data, "")


def to_row(value: Any, path: str) -> Any:
    """VALUE (a facts dataclass, a tuple or list, a scalar) as a row; PATH: the file of the
    entry, whose spans are written without it."""
    kind: type = type(value)
    if kind in _PLAIN:
        return value
    if kind is tuple or kind is list:
        return [to_row(v, path) for v in value]
    return _encoder(kind)(value, path)


_PLAIN = frozenset({str, int, float, bool, type(None)})


def _span_to_row(span: SourceSpan, path: str) -> list:
    place = [span.line, span.column, span.end_line, span.end_column] if span.end_line else [span.line, span.column]
    return place if span.path == path else [span.path, *place]


@lru_cache(maxsize=None)
def _encoder(cls: type) -> Convert:
    """`to_row` for dataclass CLS, as one generated function (the mirror of `_row_decoder`):
    every fact of every file extracted is encoded while the workers run, and a call per value
    to find out what it is cost more than the encoding. Scalar fields are written as they
    are; a field of any other type through the encoder of that type."""
    if cls is SourceSpan:
        return _span_to_row
    hints = get_type_hints(cls)
    scope: dict[str, Any] = {}
    items = []
    for number, f in enumerate(fields(cls)):
        if _scalar_hint(hints[f.name])[0] is not None:
            items.append(f"value.{f.name}")
        else:
            scope[f"e{number}"] = _field_encoder(hints[f.name])
            items.append(f"e{number}(value.{f.name}, path)")
    exec(f"def encode_row(value, path):\n    return [{', '.join(items)}]\n", scope)  # noqa: S102  text made here from the class's own fields
    return scope["encode_row"]


def _field_encoder(hint: Any) -> Convert:
    """How a field of type HINT is written: the common shapes of facts (a dataclass, an
    optional one, a tuple of them, of strings) without asking each value its type; any
    other through `to_row`."""
    if isinstance(hint, type) and is_dataclass(hint):
        return _encoder(hint)
    origin, args = get_origin(hint), get_args(hint)
    present = [a for a in args if a is not type(None)]
    if origin in (Union, types.UnionType) and len(present) == 1 and isinstance(present[0], type) and is_dataclass(present[0]):
        inner = _encoder(present[0])
        return lambda value, path: None if value is None else inner(value, path)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if args[0] is str:
            return lambda value, path: list(value)
        if isinstance(args[0], type) and is_dataclass(args[0]):
            item = _encoder(args[0])
            return lambda value, path: [item(v, path) for v in value]
    return to_row


def from_row(cls: type, row: Any, path: str) -> Any:
    """The inverse of `to_row`, as strict as `from_plain`."""
    return _decoder(cls, True)(row, path)


@lru_cache(maxsize=None)
def _decoder(cls: type, rows: bool) -> Convert:
    if cls is SourceSpan and rows:
        return _span_row
    hints = get_type_hints(cls)
    names = tuple(f.name for f in fields(cls))
    if rows:
        return _row_decoder(cls, [hints[name] for name in names])
    converters = tuple(_converter(hints[name], rows) for name in names)
    pairs = tuple(zip(names, converters))
    size = len(names)

    def decode_dict(data: Any, path: str) -> Any:
        if type(data) is not dict or len(data) != size:
            raise TypeError(f"not a {cls.__name__}")
        return cls(*[convert(data[name], path) for name, convert in pairs])

    return decode_dict


def _row_decoder(cls: type, hints: list[Any]) -> Convert:
    """`to_row`'s inverse for CLS, as one generated function: a cache of a large monolith
    holds hundreds of thousands of values, and a call per value to check it costs more
    than the check. Scalars (alone or optional) are checked inline; every other field
    goes through `_converter`, so the same rows are accepted and refused as field by
    field."""
    scope: dict[str, Any] = {"cls": cls, "_wrong": _wrong}
    values = [f"v{number}" for number in range(len(hints))]
    arguments = []
    for number, (value, hint) in enumerate(zip(values, hints)):
        scalar, optional = _scalar_hint(hint)
        if scalar is not None:
            scope[f"t{number}"] = scalar
            accepted = f"type({value}) is t{number}" if not optional else f"{value} is None or type({value}) is t{number}"
            arguments.append(f"{value} if {accepted} else _wrong()")
        else:
            scope[f"c{number}"] = _converter(hint, True)
            arguments.append(f"c{number}({value}, path)")
    unpacked = "".join(f"{value}, " for value in values)
    source = (
        "def decode_row(row, path):\n"
        f"    if type(row) is not list or len(row) != {len(hints)}:\n"
        f"        raise TypeError({f'not a {cls.__name__}'!r})\n"
        + (f"    {unpacked}= row\n" if values else "")
        + f"    return cls({', '.join(f'({argument})' for argument in arguments)})\n"
    )
    exec(source, scope)  # noqa: S102  text made here from the class's own fields
    return scope["decode_row"]


def _scalar_hint(hint: Any) -> tuple[type | None, bool]:
    """(the scalar type, whether None is allowed too) of a str/int/float/bool hint, alone
    or optional; (None, False) for any other."""
    if hint in (str, int, float, bool):
        return hint, False
    if get_origin(hint) in (Union, types.UnionType):
        present = [a for a in get_args(hint) if a is not type(None)]
        if len(present) == 1 and present[0] in (str, int, float, bool):
            return present[0], True
    return None, False


def _wrong() -> Any:
    raise TypeError("a value of the wrong type")


def _span_row(row: Any, path: str) -> SourceSpan:
    if type(row) is list and len(row) == 2:  # the commonest: [line, column] in the entry's own file
        line, column = row
        if type(line) is int and type(column) is int:
            return SourceSpan(path, line, column)
    if type(row) is not list or not row:
        raise TypeError("not a SourceSpan")
    if type(row[0]) is not str:  # in the entry's own file: [line, column(, end line, end column)]
        row = [path, *row]
    if len(row) not in (3, 5) or not all(type(v) is int for v in row[1:]):
        raise TypeError("not a SourceSpan")
    return SourceSpan(*row)


def _converter(hint: Any, rows: bool) -> Convert:
    if isinstance(hint, type) and is_dataclass(hint):
        return _decoder(hint, rows)
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        present = [a for a in args if a is not type(None)]
        if len(present) != 1:
            raise TypeError(f"unsupported union {hint}")
        inner = _converter(present[0], rows)
        return lambda value, path: None if value is None else inner(value, path)
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        if args[0] is str:  # the commonest case, without a call per item
            return _strings
        item = _converter(args[0], rows)
        return lambda value, path: tuple([item(v, path) for v in _list(value)])
    if origin is tuple:
        items = tuple(_converter(a, rows) for a in args)

        def fixed(value: Any, path: str) -> tuple:
            value = _list(value)
            if len(value) != len(items):
                raise ValueError("wrong length")
            return tuple([convert(v, path) for convert, v in zip(items, value)])

        return fixed
    if hint in (str, int, float, bool):
        return _scalar(hint)
    raise TypeError(f"unsupported type {hint}")


def _scalar(kind: type) -> Convert:
    def check(value: Any, path: str) -> Any:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}")
        return value

    return check


def _strings(value: Any, path: str) -> tuple[str, ...]:
    if not all(type(v) is str for v in _list(value)):
        raise TypeError("expected strings")
    return tuple(value)


def _list(value: Any) -> list:
    if type(value) is not list:
        raise TypeError("expected a list")
    return value
