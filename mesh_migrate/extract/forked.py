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
"""

from __future__ import annotations

import fcntl
import os
import pickle
import selectors
import signal
import struct
import sys
import threading
import traceback
from typing import Any, Callable

_HEADER = struct.Struct("<BII")  # kind, chunk number, payload length
_NUMBER = struct.Struct("<I")
_DONE, _FAILED = 1, 2
_PIPE_BYTES = 1 << 20  # room for a few answers: a worker rarely waits for the parent to read


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
    sys.stdout.flush()  # or a worker's exit would write what is buffered here a second time
    sys.stderr.flush()
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


def _widen(fd: int) -> None:
    try:
        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except OSError:  # above /proc/sys/fs/pipe-max-size for this user: the default is fine
        pass


def _work(tasks: int, answers: int, lifeline: int, start: Callable[[], None], run: Callable[[int], Any]) -> None:
    """A worker's life: take chunks until there are none; always ends the process."""
    status = 0
    try:
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
    except BrokenPipeError:  # the parent is gone
        status = 1
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(status)  # never the parent's exit handlers or its buffered output


def _end_with_parent(lifeline: int) -> None:
    """Wait for the parent to close the lifeline (by ending), then end this worker."""
    while os.read(lifeline, 1):
        pass
    os._exit(1)


def _send(fd: int, kind: int, number: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(kind, number, len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


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
    workers are killed first."""
    for fd, pid in workers.items():
        os.close(fd)
        if not finished:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for pid in workers.values():
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
