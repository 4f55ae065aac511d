"""Running extraction over many files: which files to parse, and in how many processes.

A file is parsed only when its facts are not known already: an inert file (see `inert`)
has none, and the fact cache holds those of files unchanged since the last run. What is
left runs in this process, or across a process pool when there is enough of it. Results
come back in input order whatever ran where; linking stays with the caller.
"""

from __future__ import annotations

import gc
import os
import re
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Callable, Iterator, Sequence

from .. import cache
from ..facts import Diagnostic, FileFacts, SourceSpan
from ..fsutil import read_regular_file
from ..rulepack import RulePack
from .modules import MAX_FILE_BYTES, ModuleFinder, ModuleRef

if TYPE_CHECKING:  # the interpreter is imported only when a file is parsed
    from .extractor import Workspace
    from .forked import Zygote

Progress = Callable[[int, int], None]

# Below this many files to parse, starting processes costs more than it saves.
MIN_FILES_FOR_POOL = 64

# (index in the input, path, bytes or None when unreadable)
Work = tuple[int, str, "bytes | None"]


@dataclass(frozen=True)
class ExtractOptions:
    jobs: int | None = None  # None: every core; 1: in-process
    cache_dir: Path | None = None  # None: ROOT/.mesh-migrate-cache
    use_cache: bool = True
    prefilter: bool = True  # False parses inert files too (to check the prefilter)


@dataclass(frozen=True)
class ExtractStats:
    files: int = 0
    inert: int = 0  # known to have no facts from their bytes alone
    cached: int = 0  # facts taken from the cache
    extracted: int = 0  # parsed and interpreted
    processes: int = 1  # 1: in this process


def extract_lazily(
    root: Path,
    rules: RulePack,
    python_paths: Sequence[str],
    files: Sequence[str],
    options: ExtractOptions = ExtractOptions(),
    progress: Progress | None = None,
    received: Callable[[FileFacts], None] | None = None,
) -> LazyExtraction:
    """The facts of `files` (posix paths relative to root), in the same order; those taken
    from the cache are decoded only on `decoded()`, so a caller that needs only their
    digests (to look up a result computed from the same facts) never pays for decoding them.
    RECEIVED is given the facts of each file extracted, as they arrive: what it does then
    overlaps the workers' extraction of the other files instead of following it."""
    with _early_workers(root, rules, python_paths, len(files), options) as zygote:  # set up while the files are read
        base = str(root)  # joined as text: a Path per file costs more than reading it
        sources = [_read(os.path.join(base, path)) for path in files]
        found: list[FileFacts | None] = [None] * len(files)
        inert_count = 0
        if options.prefilter:
            for index, data in enumerate(sources):
                if data is not None and inert(data):
                    found[index] = FileFacts(path=files[index])
                    inert_count += 1

        store, warnings = _open_store(root, rules, python_paths, files, sources, options)
        hits: dict[int, list] = {}  # index -> its current cache entry, not decoded yet
        if store is not None:
            with paused_garbage_collection():  # decoding builds tens of thousands of acyclic objects
                store.load()
            for index, path in enumerate(files):
                if found[index] is None:
                    entry = store.current(path)
                    if entry is not None:
                        hits[index] = entry
        work = [(i, files[i], sources[i]) for i, facts in enumerate(found) if facts is None and i not in hits]
        known = len(files) - len(work)
        if progress is not None and known:
            progress(known, len(files))

        processes = _processes(options.jobs, len(work))
        done = known
        encoded: dict[int, cache.EncodedFacts] = {}  # the entries to store, made while the workers still run

        def collect(index: int, facts: FileFacts) -> None:
            nonlocal done
            found[index] = facts
            # A crash may not happen again (memory is freed): never remember one.
            if store is not None and not any(d.code == CRASHED for d in facts.diagnostics):
                encoded[index] = cache.encode_facts(facts)
            done += 1
            if received is not None:
                received(facts)
            if progress is not None:
                progress(done, len(files))

        if processes > 1:
            modules = _run_in_pool(root, rules, python_paths, work, processes, collect, zygote)
        else:
            modules = _run_here(root, rules, python_paths, work, processes, collect)

    if store is not None:
        warning = store.save(files, found, hits, encoded, modules)
        warnings += (warning,) if warning else ()
    stats = ExtractStats(len(files), inert_count, len(hits), len(work), processes)
    return LazyExtraction(root, rules, list(python_paths), list(files), found, hits, stats, warnings, store)


@dataclass(frozen=True)
class Extraction:
    facts: tuple[FileFacts, ...]
    stats: ExtractStats
    warnings: tuple[str, ...] = ()


class LazyExtraction:
    """The facts of every file, those from the cache still encoded."""

    def __init__(self, root: Path, rules: RulePack, python_paths: list[str], files: list[str], found: list[FileFacts | None], hits: dict[int, list], stats: ExtractStats, warnings: tuple[str, ...], store: _Store | None):
        self.root, self.rules, self.python_paths = root, rules, python_paths
        self.files, self._found, self._hits = files, found, hits
        self.stats, self.warnings, self.store = stats, warnings, store
        self._decoded: Extraction | None = None

    def digests(self) -> tuple[str, ...]:
        """A digest of each file's facts (see `cache.facts_digest`), without decoding any."""
        written = self.store.written if self.store is not None else {}
        return tuple(
            cache.entry_digest(self._hits[index]) if index in self._hits else written.get(path) or cache.facts_digest(self._found[index])  # type: ignore[arg-type]
            for index, path in enumerate(self.files)
        )

    def decoded(self) -> Extraction:
        """Every file's facts, decoded once. An entry that does not decode (which only a
        bug of this tool could have signed) is extracted again."""
        if self._decoded is not None:
            return self._decoded
        found, bad = self._found, []
        with paused_garbage_collection():
            for index, entry in self._hits.items():
                facts = cache.decode_entry(self.files[index], entry)
                if facts is None or facts.path != self.files[index]:
                    bad.append(index)
                found[index] = facts
        stats, warnings = self.stats, self.warnings
        if bad:
            work = [(i, self.files[i], _read(self.root / self.files[i])) for i in bad]
            modules = _run_here(self.root, self.rules, self.python_paths, work, 1, found.__setitem__)
            for index in bad:
                del self._hits[index]
            if self.store is not None:
                encoded = {index: cache.encode_facts(found[index]) for index in bad}  # type: ignore[arg-type]
                warning = self.store.save(self.files, found, self._hits, encoded, modules)
                warnings += (warning,) if warning else ()
            stats = replace(stats, cached=stats.cached - len(bad), extracted=stats.extracted + len(bad))
        self._decoded = Extraction(tuple(found), stats, warnings)  # type: ignore[arg-type]
        return self._decoded


# ---- the prefilter -------------------------------------------------------------------

_BLANK_LINES = rb"(?:[ \t]*(?:\#[^\r\n]*)?\r?\n)*"
_LAST_LINE = rb"[ \t]*(?:\#[^\r\n]*)?"
# A docstring at column 0 without backslashes (escapes can be syntax errors), "{{" (a
# Jinja template in a module-level string is a fact) or two of its quotes in a row inside.
# A run of plain characters is taken whole and never given back (each character can match
# one way only), so a long docstring costs a step per run, not per character.
_DOCSTRING = rb"(?:\"\"\"(?:[^\"\\{]++|\{(?!\{)|\"(?!\"))*+\"\"\"|'''(?:[^'\\{]++|\{(?!\{)|'(?!'))*+''')"
_INERT = re.compile(
    rb"(?:\xef\xbb\xbf)?" + _BLANK_LINES + rb"(?:" + _DOCSTRING + _LAST_LINE + rb"(?:\r?\n" + _BLANK_LINES + _LAST_LINE + rb")?|" + _LAST_LINE + rb")\Z"
)


def inert(data: bytes) -> bool:
    """Whether a file's bytes alone prove that extracting it yields no fact at all.

    True only for a file of blank lines, comments and at most one plain docstring (empty
    and docstring-only `__init__.py` files). Nothing weaker is sound, since parsing
    itself yields facts: a file that imports nothing and names no rule can still be a
    syntax error, exceed the analysis budget with nested loops, nest too deeply, or read
    a connection in a Jinja string; and one that never says "dag" can define DAGs through
    a helper imported under another name. The byte checks that remain (size, UTF-8, no
    NUL) mirror the ones that would otherwise produce a diagnostic.
    """
    if len(data) > MAX_FILE_BYTES or b"\0" in data or _INERT.match(data) is None:
        return False
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    return True


# ---- running: in this process or in a pool ---------------------------------------------

Collect = Callable[[int, FileFacts], None]
_WorkerStart = tuple[Path, RulePack, list[str], int]  # what each worker starts from, the pid of its parent last


def _worker_start(root: Path, rules: RulePack, python_paths: Sequence[str]) -> _WorkerStart:
    return (root, rules, list(python_paths), os.getpid())


def _run_here(root: Path, rules: RulePack, python_paths: Sequence[str], work: list[Work], processes: int, collect: Collect) -> dict[str, str]:
    if not work:
        return {}
    workspace, finder = _workspace(root, rules, python_paths)
    with paused_garbage_collection():
        for index, path, data in work:
            collect(index, _extract_one(workspace, path, data))
    return finder.drain()


@contextmanager
def _early_workers(root: Path, rules: RulePack, python_paths: Sequence[str], files: int, options: ExtractOptions) -> Iterator[Zygote | None]:
    """A zygote of the workers (see forked.Zygote) when extraction will likely need them:
    enough files and no cache to consult (--no-cache, or none written yet). It imports the
    interpreter while this process reads the files, which then never imports it."""
    processes = _processes(options.jobs, files)
    if processes < 2 or _start_method() != "fork" or (options.use_cache and cache.cache_dir(root, options.cache_dir).exists()):
        yield None
        return
    from .forked import Zygote

    start = _worker_start(root, rules, python_paths)
    try:
        zygote = Zygote(processes, lambda: _start_worker(*start, watch_parent=False), _extract_sent_chunk)
    except OSError:  # no process to spare: the workers are forked from here later, or not at all
        yield None
        return
    try:
        yield zygote
    finally:
        zygote.close()


def _run_in_pool(root: Path, rules: RulePack, python_paths: Sequence[str], work: list[Work], processes: int, collect: Collect, zygote: Zygote | None = None) -> dict[str, str]:
    modules: dict[str, str] = {}
    start = _worker_start(root, rules, python_paths)
    pool_round = _forked_round if _start_method() == "fork" else _spawned_round

    def run(chunks: list[list[Work]], size: int = processes) -> list[Work]:
        return pool_round(size, start, chunks, collect, modules)

    # This process only unpickles acyclic facts meanwhile. Forked workers share its memory
    # until they write to it, and a collection writes to every object it scans: frozen
    # objects are never scanned (the workers turn collection back on).
    with paused_garbage_collection():
        gc.freeze()
        first = list(_chunks(work, processes))
        if zygote is not None and zygote.processes == processes:
            todo = _zygote_round(zygote, first, collect, modules)
        else:
            if zygote is not None:
                zygote.close()  # made for another number of workers: not kept idle meanwhile
            todo = run(first)
        # A worker died (a crash in C code, the OOM killer): the pool is lost, not the run.
        # Retry one file per task; when no file gets done, the first ones queued ran when
        # it died, so each runs alone, and a file that kills its worker alone is reported.
        while todo:
            left = run([[item] for item in todo])
            if len(left) == len(todo):
                suspects, left = todo[: processes + 1], todo[processes + 1 :]
                alone = [item for item in suspects if run([[item]], 1)]
                if len(alone) == len(todo) - len(left) and len(todo) == len(work):
                    from concurrent.futures.process import BrokenProcessPool

                    # Not one file done, each suspect dying alone: the workers cannot run at all.
                    raise BrokenProcessPool("every worker died before analyzing a file; see the log above for why")
                for item in alone:
                    collect(item[0], crashed(item[1]))
            todo = left
    return modules


def _forked_round(processes: int, start: _WorkerStart, chunks: list[list[Work]], collect: Collect, modules: dict[str, str]) -> list[Work]:
    """Run chunks in freshly forked workers, which inherit them; what a dead worker left
    undone, in input order."""
    from . import extractor  # noqa: F401  before forking: every worker has it imported
    from .forked import run_forked

    undone = run_forked(min(processes, len(chunks)), len(chunks), lambda: _start_worker(*start, watch_parent=False), lambda number: _extract_chunk(chunks[number]), _answer(collect, modules))
    return [item for number in sorted(undone) for item in chunks[number]]


def _zygote_round(zygote: Zygote, chunks: list[list[Work]], collect: Collect, modules: dict[str, str]) -> list[Work]:
    """Run chunks in the zygote's workers; what a dead worker left undone, in input order.
    The files' bytes travel apart from the rest, each item naming its blob (None: the file
    was unreadable, which the worker reports)."""
    blobs: list[bytes] = []
    sent: list[list[tuple[int, str, int | None]]] = []
    for chunk in chunks:
        row = []
        for index, path, data in chunk:
            row.append((index, path, None if data is None else len(blobs)))
            if data is not None:
                blobs.append(data)
        sent.append(row)
    undone = zygote.run(len(chunks), sent, blobs, _answer(collect, modules))
    return [item for number in sorted(undone) for item in chunks[number]]


def _answer(collect: Collect, modules: dict[str, str]) -> Callable[[int, tuple[list[tuple[int, FileFacts]], dict[str, str]]], None]:
    """What takes a chunk's answer: its facts to COLLECT, how its imports resolved to MODULES."""

    def answer(number: int, result: tuple[list[tuple[int, FileFacts]], dict[str, str]]) -> None:
        results, resolved = result
        modules.update(resolved)
        for index, facts in results:
            collect(index, facts)

    return answer


def _spawned_round(processes: int, start: _WorkerStart, chunks: list[list[Work]], collect: Collect, modules: dict[str, str]) -> list[Work]:
    """Run chunks in a fresh pool of spawned workers; what a dead worker left undone, in input order."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    # concurrent.futures, not multiprocessing.Pool: a worker that dies breaks the pool
    # (BrokenProcessPool) instead of being replaced forever.
    pool = ProcessPoolExecutor(processes, multiprocessing.get_context("spawn"), initializer=_start_worker, initargs=start)
    try:
        futures = []
        for chunk in chunks:
            try:
                futures.append(pool.submit(_extract_chunk, chunk))
            except BrokenProcessPool:  # a worker died while the rest were being queued
                break
        undone: set[int] = set()
        for future in as_completed(futures):
            try:
                results, resolved = future.result()
            except BrokenProcessPool:
                undone.add(id(future))
                continue
            modules.update(resolved)
            for index, facts in results:
                collect(index, facts)
    finally:
        pool.shutdown(cancel_futures=True)  # after any other failure, do not finish the rest
    unqueued = [item for chunk in chunks[len(futures):] for item in chunk]
    return [item for future, chunk in zip(futures, chunks) if id(future) in undone for item in chunk] + unqueued


CRASHED = "worker-crashed"


def crashed(path: str) -> FileFacts:
    message = "the process analyzing this file died (a crash or out of memory); not analyzed"
    return FileFacts(path=path, diagnostics=(Diagnostic("error", CRASHED, message, SourceSpan(path, 1)),))


def _processes(jobs: int | None, files: int) -> int:
    if jobs is None:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if files < MIN_FILES_FOR_POOL:
        return 1
    return max(1, min(jobs, files // (MIN_FILES_FOR_POOL // 2)))


def _start_method() -> str:
    """fork where it is safe: workers then start in milliseconds with every module
    already imported. Forking a process that runs other threads can deadlock them."""
    if sys.platform == "linux" and threading.active_count() == 1:
        return "fork"
    return "spawn"


def _chunks(work: list[Work], processes: int) -> Iterator[list[Work]]:
    """Chunks that shrink as the work left does: each chunk pays a round trip, so the first
    are large, and the last are small, so that no worker is left with a long chunk when
    the others have nothing more to take."""
    start = 0
    while start < len(work):
        size = max(8, min(256, (len(work) - start) // (processes * 4)))
        yield work[start : start + size]
        start += size


_worker: tuple[Workspace, _RecordingFinder] | None = None


def _start_worker(root: Path, rules: RulePack, python_paths: list[str], parent: int, watch_parent: bool = True) -> None:
    """WATCH_PARENT: end when PARENT does (forked workers have a lifeline of their own)."""
    global _worker
    if watch_parent:
        die_with_parent(parent)
    gc.disable()  # see _extract_one; a forked worker starts so, a spawned one does not
    _worker = _workspace(root, rules, python_paths)


# A worker blocks on its task queue, whose other end it holds too: when the run is killed
# (SIGKILL, SIGTERM) nothing wakes it, and it would keep the run's stdout open forever.
_PR_SET_PDEATHSIG = 1
_PARENT_CHECK_SECONDS = 1.0


def die_with_parent(parent: int) -> None:
    """End this process when PARENT, the process that started it, ends."""
    if not _kernel_kills_on_parent_death():
        threading.Thread(target=_watch_parent, args=(parent,), name="watch-parent", daemon=True).start()
    if os.getppid() != parent:  # it ended before the line above took effect
        os._exit(1)


def _kernel_kills_on_parent_death() -> bool:
    """Linux: ask for SIGKILL when the parent ends (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int) -> None:
    """Elsewhere: an orphan is adopted by another process, so its parent id changes."""
    while os.getppid() == parent:
        time.sleep(_PARENT_CHECK_SECONDS)
    os._exit(1)


def _extract_sent_chunk(sent: list[list[tuple[int, str, int | None]]], blobs: list[memoryview], number: int) -> tuple[list[tuple[int, FileFacts]], dict[str, str]]:
    """Chunk NUMBER of what `_zygote_round` sent, in a worker."""
    return _extract_chunk([(index, path, None if blob is None else bytes(blobs[blob])) for index, path, blob in sent[number]])


def _extract_chunk(chunk: list[Work]) -> tuple[list[tuple[int, FileFacts]], dict[str, str]]:
    assert _worker is not None, "worker not started"
    workspace, finder = _worker
    return [(index, _extract_one(workspace, path, data)) for index, path, data in chunk], finder.drain()


def _extract_one(workspace: Workspace, path: str, data: bytes | None) -> FileFacts:
    """The facts of one file, extracted with automatic garbage collection paused (the
    caller's part), then one collection of the youngest generation.

    Automatic collections run every few hundred new objects: while a file is extracted
    they scan its live syntax tree again and again, and each full collection scans every
    object kept, 15% of extraction in all. Once its facts are made, a file's tree is
    freed by reference counting unless the interpreter's values left it in a cycle; the
    one collection after the file scans what the file left once, and frees such cycles
    before the next file, so memory stays that of one file."""
    facts = workspace.extract(path, data)
    gc.collect(0)
    return facts


def _workspace(root: Path, rules: RulePack, python_paths: Sequence[str]) -> tuple[Workspace, _RecordingFinder]:
    from .extractor import Workspace

    workspace = Workspace(root, rules, list(python_paths))
    finder = _RecordingFinder(root, list(python_paths))
    workspace.finder = finder
    return workspace, finder


class _RecordingFinder(ModuleFinder):
    """A ModuleFinder that remembers how each name resolved, for the cache to recheck."""

    def __init__(self, root: Path, python_paths: list[str]):
        super().__init__(root, python_paths)
        self._resolved: dict[str, str] = {}

    def _find(self, dotted: str) -> ModuleRef | None:
        ref = super()._find(dotted)
        self._resolved[dotted] = resolution(ref)
        return ref

    def drain(self) -> dict[str, str]:
        """What was resolved since the last call."""
        resolved, self._resolved = self._resolved, {}
        return resolved


def resolution(ref: ModuleRef | None) -> str:
    """A module lookup's outcome as text: '' outside the repository, '/' a namespace package."""
    if ref is None:
        return ""
    return ref.path if ref.path is not None else "/"


@contextmanager
def paused_garbage_collection():
    """For work that builds many objects and no cycles, such as decoding the cache.

    Collecting while such work runs scans the new objects over and over; collecting
    after it scans them all at once (0.2 s for 5,000 files' facts) and finds nothing.
    Freezing then unfreezing moves them to the oldest generation without a scan.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


# ---- the cache, as this run sees it ----------------------------------------------------


def _open_store(root: Path, rules: RulePack, python_paths: Sequence[str], files: Sequence[str], sources: list[bytes | None], options: ExtractOptions) -> tuple[_Store | None, tuple[str, ...]]:
    """The cache of this run, or None and why not (no key to verify it with)."""
    if not options.use_cache:
        return None, ()
    try:
        key = cache.machine_key()
    except OSError as error:
        return None, (f"fact cache not used: no key to verify it ({error.filename}: {error.strerror or error})",)
    header = cache.cache_header(rules.fingerprint, python_paths)
    hashes = {path: cache.content_hash(data) if data is not None else None for path, data in zip(files, sources)}
    return _Store(cache.cache_dir(root, options.cache_dir), header, key, hashes, root, list(python_paths)), ()


class _Store:
    """The cache entries of one run: looked up before extraction, written back after."""

    def __init__(self, directory: Path, header: dict, key: bytes, hashes: dict[str, str | None], root: Path, python_paths: list[str]):
        self.directory = directory
        self.header = header
        self.key = key
        self.snapshot = cache.Snapshot()
        self.hashes = hashes  # path -> content hash (None: unreadable), files and dependencies
        self.root = root
        self.python_paths = python_paths
        self.written: dict[str, str] = {}  # path -> facts digest of the entries written
        self._texts: dict[str, bytes] = {}  # path -> text of the entries written
        self._modules: dict[str, str] = {}  # how module names resolved, as written

    def load(self) -> None:
        snapshot = cache.load(self.directory, self.header, self.key)
        if snapshot.modules:
            finder = ModuleFinder(self.root, self.python_paths)
            if cache.stale_modules(snapshot, lambda name: resolution(finder.find(name))):
                snapshot = cache.Snapshot()
        self.snapshot = snapshot

    def dependency_hash(self, path: str) -> str | None:
        """The content hash of a repository file named in an entry; None for a file that
        cannot be read, and for any path that is not a regular file inside the repository."""
        if path not in self.hashes:
            data = _read_inside(self.root, path)
            self.hashes[path] = cache.content_hash(data) if data is not None else None
        return self.hashes[path]

    def current(self, path: str) -> list | None:
        """The stored entry of `path` when nothing its facts depend on changed (undecoded)."""
        content = self.hashes.get(path)
        entry = self.snapshot.files.get(path)
        if content is None or entry is None:
            return None
        return entry if cache.entry_is_current(entry, content, self.dependency_hash) else None

    def save(self, files: Sequence[str], results: list[FileFacts | None], hits: dict[int, list], encoded: dict[int, cache.EncodedFacts], modules: dict[str, str]) -> str | None:
        """Store the ENCODED facts of extracted files anew, and every other entry as it was
        read or last written (inert files need none); written only when that differs from
        what was loaded."""
        entries: dict[str, bytes] = {}
        for index, path in enumerate(files):
            content = self.hashes.get(path)
            if index in encoded and content is not None:
                dependencies = {name: self.dependency_hash(name) for name in results[index].depends_on}  # type: ignore[union-attr]
                self._texts[path] = cache.entry_text(encoded[index], content, dependencies)
                self.written[path] = encoded[index].digest
            if path in self._texts:
                entries[path] = self._texts[path]
            elif index in hits:
                entries[path] = cache.entry_of(path, self.snapshot)
        if not encoded and entries.keys() == self.snapshot.files.keys():
            return None
        self._modules = {**self.snapshot.modules, **self._modules, **modules}
        return cache.save(self.directory, self.header, self._modules, entries, self.key)


def _read_inside(root: Path, path: str) -> bytes | None:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    full = root / relative
    try:
        full.resolve().relative_to(root.resolve())
        return read_regular_file(full, MAX_FILE_BYTES)
    except (OSError, ValueError):
        return None


def _read(path: Path | str) -> bytes | None:
    """A file's bytes, None when it cannot be read: one read of a byte more than fstat's
    size, through the descriptor (a file object costs more than the read, read_bytes twice
    as much); more reads only when that byte came, the file having grown since."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    try:
        wanted = os.fstat(fd).st_size + 1
        data = os.read(fd, wanted)
        if len(data) == wanted:
            while more := os.read(fd, 1 << 16):
                data += more
        return data
    except OSError:  # a directory, an I/O error
        return None
    finally:
        os.close(fd)
