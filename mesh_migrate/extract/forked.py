"""Chunks of work run by forked worker processes, over pipes (Linux).

The workers inherit everything at the fork: the work itself, the imported interpreter, the
rule pack. All chunk numbers are written to one task pipe before the first fork and its
writing end is closed: a worker takes the next number with a read of four bytes (a pipe
read is atomic), so the workers balance themselves, and one that finds the pipe empty sees
its end. A worker answers each chunk through a pipe of its own. The parent reads every
answer pipe as data arrives and hands each result on while the workers go on (nothing waits
for a queue's feeder thread or a result thread).

A worker that dies (a crash in C code, the OOM killer) closes its answer pipe: the chunk it
had taken and not answered is reported undone, with every chunk no worker took. A parent
that dies, however (SIGKILL), closes the writing end of a lifeline pipe that only it holds:
a thread of each worker waits on the other end and ends the worker at once, so a killed run
leaves no worker holding its output open.

A `Zygote` moves the workers' set-up (importing the interpreter, making its workspace) out
of this process's way: it is forked before the work is known, sets up while this process
reads the files, and forks the workers, which wait on the task pipe. The work (the files'
bytes with it) then goes through shared memory. The set-up is paid once, on a core this
process leaves idle, and the workers start at once.
"""

from __future__ import annotations

import fcntl
import gc
import mmap
import os
import pickle
import selectors
import signal
import struct
import sys
import threading
import traceback
from typing import Any, Callable, NoReturn, Sequence

_HEADER = struct.Struct("<BII")  # kind, chunk number, payload length
_NUMBER = struct.Struct("<I")
_DONE, _FAILED = 1, 2
_PIPE_BYTES = 1 << 20  # room for a few answers: a worker rarely waits for the parent to read
_IOV_MAX = 1024  # buffers a writev takes at most (Linux)


class WorkerError(Exception):
    """A chunk raised in a worker: the worker's traceback, as text."""


def run_forked(processes: int, chunks: int, start: Callable[[], None], run: Callable[[int], Any], answer: Callable[[int, Any], None]) -> set[int]:
    """Run chunks 0..CHUNKS-1 in PROCESSES forked workers: each worker calls START once,
    then RUN(n) for the chunks it takes; ANSWER(n, result) is called here as results come.
    Returns the chunks left undone by workers that died. A chunk that raises raises
    WorkerError here; an exception here (in ANSWER) kills the workers and propagates."""
    tasks_read, tasks_write = os.pipe()
    os.write(tasks_write, b"".join(_NUMBER.pack(n) for n in range(chunks)))  # a few bytes a chunk: never fills the pipe
    os.close(tasks_write)
    lifeline_read, lifeline_write = os.pipe()
    workers: dict[int, int] = {}  # answer pipe -> pid
    finished = False
    _flush_output()
    try:
        for _ in range(processes):
            answers_read, answers_write = os.pipe()
            _widen(answers_write)
            pid = os.fork()
            if pid == 0:  # the worker: never returns
                for inherited in (answers_read, lifeline_write, *workers):
                    os.close(inherited)
                _work(tasks_read, answers_write, lifeline_read, start, run)
            os.close(answers_write)
            workers[answers_read] = pid
        os.close(tasks_read)
        tasks_read = -1
        done = _collect(workers, answer)
        finished = True
    finally:
        if tasks_read >= 0:
            os.close(tasks_read)
        _end(workers, finished)
        os.close(lifeline_read)
        os.close(lifeline_write)
    return set(range(chunks)) - done


class Zygote:
    """A process forked before the work is known: it runs START (the workers' set-up) and
    forks the workers, which wait for chunk numbers on the task pipe, while this process
    goes on; `run` hands them the work."""

    def __init__(self, processes: int, start: Callable[[], None], run: Callable[[Any, list[memoryview], int], Any]):
        """PROCESSES: the workers to fork; RUN(work, blobs, n) runs chunk n of what `run`
        sends (the blobs as views: `bytes(view)` copies one). Raises OSError when the
        process cannot be forked."""
        # The work, and the files' bytes with it, goes through shared memory, written once
        # here and read in place by the workers: through a pipe 2,000 files took 12 ms.
        self._work = os.memfd_create("mesh-migrate-work")
        self._tasks_read, self._tasks = os.pipe()
        self._ready, self._ready_write = os.pipe()
        self._lifeline_read, self._lifeline = os.pipe()
        self.processes = processes
        answers = [os.pipe() for _ in range(processes)]  # a worker each
        for write in (self._tasks, *(write for _, write in answers)):
            _widen(write)
        self._answers = [read for read, _ in answers]  # the ends this process reads
        ours = (self._tasks, self._ready, self._lifeline, *self._answers)
        theirs = (self._tasks_read, self._ready_write, self._lifeline_read, *(write for _, write in answers))
        _flush_output()
        try:
            self._pid = os.fork()
        except OSError:
            for fd in (*ours, *theirs, self._work):
                os.close(fd)
            raise
        if self._pid == 0:  # the zygote: never returns
            for fd in ours:
                os.close(fd)
            _zygote(self._tasks_read, self._ready_write, [write for _, write in answers], self._lifeline_read, self._work, start, run)
        for fd in theirs:
            os.close(fd)
        self._used = False

    def run(self, chunks: int, work: Any, blobs: Sequence[bytes], answer: Callable[[int, Any], None]) -> set[int]:
        """As `run_forked`, the chunks of WORK run by the zygote's workers, with BLOBS, byte
        strings not pickled. Workers that could not start leave every chunk undone."""
        assert not self._used, "a zygote's workers run one round"
        self._used = True
        workers: dict[int, int] = {}  # answer pipe -> pid (0: not known)
        finished = False
        try:
            header = pickle.dumps((work, [len(blob) for blob in blobs]), pickle.HIGHEST_PROTOCOL)
            _write_all(self._work, [_NUMBER.pack(len(header)), header, *blobs])
            os.write(self._tasks, b"".join(_NUMBER.pack(n) for n in range(chunks)))  # no more than the pipe holds: see _widen
            os.close(self._tasks)
            self._tasks = -1
            pids = [pid for (pid,) in _NUMBER.iter_unpack(_read_all(self._ready))]
            workers = {read: pids[number] if number < len(pids) else 0 for number, read in enumerate(self._answers)}
            self._answers = []  # closed with the workers' pipes below
            done = _collect(workers, answer)
            finished = True
            return set(range(chunks)) - done
        finally:
            _end(workers, finished)  # its workers are the zygote's children: it reaps them
            self.close()

    def close(self) -> None:
        """End the zygote and its workers (at once, when they ran no round) and release what
        this process holds."""
        if self._pid <= 0:
            return
        if not self._used and not self._forked():
            os.kill(self._pid, signal.SIGKILL)  # still setting up, for nothing: never wait for it
        # Workers waiting for a task see the task pipe end (and the lifeline too), and end.
        for fd in (self._tasks, self._ready, self._lifeline, self._work, *self._answers):
            if fd >= 0:
                os.close(fd)
        self._answers = []
        os.waitpid(self._pid, 0)  # after a round, it ends once its workers have
        self._pid = 0

    def _forked(self) -> bool:
        """Whether the zygote has forked its workers (it tells their pids then)."""
        os.set_blocking(self._ready, False)
        try:
            return bool(os.read(self._ready, _PIPE_BYTES))
        except BlockingIOError:
            return False


def _zygote(tasks: int, ready: int, answers: list[int], lifeline: int, work: int, start: Callable[[], None], run: Callable[[Any, list[memoryview], int], Any]) -> None:
    """The zygote's life: set up, fork a worker per answer pipe, tell their pids, wait for
    them; always ends the process."""

    def life() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent ends the workers
        start()
        gc.freeze()  # what the workers inherit is never scanned by their collections
        sent: list[Any] = []  # (work, blobs), read by each worker at its first task

        def run_sent(number: int) -> Any:
            if not sent:
                sent.extend(_sent_work(work))
            return run(sent[0], sent[1], number)

        pids = []
        for number, answer in enumerate(answers):
            pid = os.fork()
            if pid == 0:  # a worker: never returns
                for fd in (ready, *answers[:number], *answers[number + 1 :]):
                    os.close(fd)
                _work(tasks, answer, lifeline, lambda: None, run_sent)
            pids.append(pid)
        for fd in (tasks, work, *answers):
            os.close(fd)
        os.write(ready, b"".join(_NUMBER.pack(pid) for pid in pids))
        os.close(ready)
        for pid in pids:
            os.waitpid(pid, 0)

    _live_then_exit(life)


def _sent_work(fd: int) -> tuple[Any, list[memoryview]]:
    """What `Zygote.run` wrote to the shared memory FD: the work, and a view of each blob."""
    whole = memoryview(mmap.mmap(fd, 0, mmap.MAP_SHARED, mmap.PROT_READ))
    (size,) = _NUMBER.unpack_from(whole)
    at = _NUMBER.size + size
    work, lengths = pickle.loads(whole[_NUMBER.size : at])
    views = []
    for length in lengths:
        views.append(whole[at : at + length])
        at += length
    return work, views


def _flush_output() -> None:
    sys.stdout.flush()  # or a child's exit would write what is buffered here a second time
    sys.stderr.flush()


def _write_all(fd: int, buffers: Sequence[bytes]) -> None:
    """Write BUFFERS one after another, gathered by the kernel (no joined copy here)."""
    pending = [memoryview(buffer) for buffer in buffers if buffer]
    first = 0
    while first < len(pending):
        written = os.writev(fd, pending[first : first + _IOV_MAX])
        while written:
            head = pending[first]
            if written < len(head):
                pending[first] = head[written:]
                break
            written -= len(head)
            first += 1


def _read_all(fd: int) -> bytes:
    """Everything until the writer closes FD."""
    chunks = []
    while data := os.read(fd, _PIPE_BYTES):
        chunks.append(data)
    return b"".join(chunks)


def _widen(fd: int) -> None:
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:  # above /proc/sys/fs/pipe-max-size for this user: the default is fine
        pass


def _work(tasks: int, answers: int, lifeline: int, start: Callable[[], None], run: Callable[[int], Any]) -> None:
    """A worker's life: take chunks until there are none; always ends the process."""

    def life() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C: the parent ends the workers
        threading.Thread(target=_end_with_parent, args=(lifeline,), name="lifeline", daemon=True).start()
        start()
        while True:
            taken = os.read(tasks, _NUMBER.size)
            if not taken:
                break
            (number,) = _NUMBER.unpack(taken)
            try:
                payload, kind = pickle.dumps(run(number), pickle.HIGHEST_PROTOCOL), _DONE
            except Exception:
                payload, kind = traceback.format_exc().encode(), _FAILED
            _send(answers, kind, number, payload)

    _live_then_exit(life)


def _live_then_exit(life: Callable[[], None]) -> NoReturn:
    """Run the LIFE of a forked process, then end the process: status 1 after an exception
    (its traceback printed, unless the parent is gone), never running the parent's exit
    handlers or writing its buffered output."""
    status = 0
    try:
        life()
    except BrokenPipeError:  # the parent is gone
        status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(status)


def _end_with_parent(lifeline: int) -> None:
    """Wait for the parent to close the lifeline (by ending), then end this worker."""
    while os.read(lifeline, 1):
        pass
    os._exit(1)


def _send(fd: int, kind: int, number: int, payload: bytes) -> None:
    _write_all(fd, [_HEADER.pack(kind, number, len(payload)), payload])


def _collect(workers: dict[int, int], answer: Callable[[int, Any], None]) -> set[int]:
    """Read every answer pipe until each is closed; the chunks answered."""
    done: set[int] = set()
    buffers = {fd: bytearray() for fd in workers}
    with selectors.DefaultSelector() as selector:
        for fd in workers:
            selector.register(fd, selectors.EVENT_READ)
        open_pipes = len(workers)
        while open_pipes:
            for key, _ in selector.select():
                fd = key.fd
                data = os.read(fd, _PIPE_BYTES)
                if not data:
                    selector.unregister(fd)
                    open_pipes -= 1
                    continue
                buffer = buffers[fd]
                buffer += data
                while len(buffer) >= _HEADER.size:
                    kind, number, length = _HEADER.unpack_from(buffer)
                    end = _HEADER.size + length
                    if len(buffer) < end:
                        break
                    payload = bytes(buffer[_HEADER.size : end])
                    del buffer[:end]
                    if kind == _DONE:
                        done.add(number)
                        answer(number, pickle.loads(payload))
                    elif kind == _FAILED:
                        raise WorkerError(payload.decode(errors="replace"))
    return done


def _end(workers: dict[int, int], finished: bool) -> None:
    """Close the answer pipes and reap the workers. Each has closed its pipe, so it is
    ending, unless this process stopped reading early (an error, an interrupt): then the
    workers are killed first. A pid of 0 is a worker never started (kill(0) would signal
    this whole process group)."""
    for fd, pid in workers.items():
        os.close(fd)
        if not finished and pid > 0:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for pid in filter(None, workers.values()):
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
