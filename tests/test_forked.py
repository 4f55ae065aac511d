"""Chunks run by forked workers over pipes: every answer arrives once, a dead worker's chunk
comes back undone, and nothing is left behind (processes, pipes)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from mesh_migrate.extract.forked import WorkerError, Zygote, run_forked

from .processes import alive, children

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="forked workers run on Linux only")


def open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


# Each test compares the processes and pipes left to those it found: a child of the test
# process that outlives the test that started it (multiprocessing's resource tracker, after
# a spawned pool) is not one of these tests' workers.


def collect(processes: int, chunks: int, run, start=lambda: None) -> tuple[dict[int, object], set[int]]:
    answers: dict[int, object] = {}

    def answer(number: int, result: object) -> None:
        assert number not in answers
        answers[number] = result

    fds, kept = open_fds(), children(os.getpid())
    undone = run_forked(processes, chunks, start, run, answer)
    assert open_fds() == fds and children(os.getpid()) <= kept
    return answers, undone


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_every_chunk_is_answered_once_with_its_result(processes: int) -> None:
    answers, undone = collect(processes, 40, lambda n: (n, os.getpid(), "x" * n))
    assert undone == set()
    assert {n: (value, text) for n, (value, _, text) in answers.items()} == {n: (n, "x" * n) for n in range(40)}
    assert os.getpid() not in {pid for _, pid, _ in answers.values()}


def test_results_larger_than_a_pipe_arrive_whole() -> None:
    answers, undone = collect(2, 6, lambda n: bytes([n]) * (3 << 20))
    assert undone == set() and all(answers[n] == bytes([n]) * (3 << 20) for n in range(6))


def test_no_chunks_no_work() -> None:
    assert collect(2, 0, lambda n: n) == ({}, set())


def test_a_worker_that_dies_leaves_its_chunk_undone_and_the_others_go_on() -> None:
    def run(n: int) -> int:
        if n == 3:
            os._exit(70)  # as a crash in C code or the OOM killer would end it
        return n

    answers, undone = collect(2, 12, run)
    assert undone == {3}
    assert set(answers) == set(range(12)) - {3}  # the other worker took the rest


def test_when_every_worker_dies_what_none_took_is_undone_too() -> None:
    answers, undone = collect(2, 10, lambda n: os._exit(70) if n >= 4 else n)
    assert set(answers) | undone == set(range(10)) and set(answers) <= {0, 1, 2, 3} and undone >= set(range(5, 10))


def test_workers_that_cannot_start_leave_everything_undone(capfd) -> None:
    def start() -> None:
        raise RuntimeError("cannot start")

    assert collect(2, 5, lambda n: n, start) == ({}, set(range(5)))
    assert "RuntimeError: cannot start" in capfd.readouterr().err


def test_a_chunk_that_raises_raises_here_with_the_worker_s_traceback() -> None:
    def run(n: int) -> int:
        if n == 2:
            raise ValueError("bad chunk")
        return n

    fds, kept = open_fds(), children(os.getpid())
    with pytest.raises(WorkerError, match="ValueError: bad chunk"):
        run_forked(2, 8, lambda: None, run, lambda n, r: None)
    assert open_fds() == fds and children(os.getpid()) <= kept


def test_an_error_here_ends_the_workers() -> None:
    def answer(number: int, result: object) -> None:
        raise KeyboardInterrupt  # Ctrl-C while results arrive

    fds, kept = open_fds(), children(os.getpid())
    with pytest.raises(KeyboardInterrupt):
        run_forked(2, 50, lambda: None, lambda n: __import__("time").sleep(0.05), answer)
    assert open_fds() == fds and children(os.getpid()) <= kept


def test_workers_end_when_the_parent_is_killed(tmp_path) -> None:
    """A parent killed outright (SIGKILL) runs no cleanup: its workers end by themselves."""
    pids = tmp_path / "pids"
    script = (
        "import os, time\n"
        "from mesh_migrate.extract.forked import run_forked\n"
        f"def run(n):\n    open({str(pids)!r}, 'a').write(f'{{os.getpid()}}\\n')\n    time.sleep(60)\n"
        "run_forked(2, 2, lambda: None, run, lambda n, r: None)\n"
    )
    assert_end_with_their_parent(script, pids, 2)


def assert_end_with_their_parent(script: str, pids: Path, count: int) -> None:
    """Run SCRIPT, which writes COUNT pids to PIDS as its processes start, kill it (SIGKILL),
    and check that every one of them ends."""
    import signal
    import subprocess
    import time

    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not (pids.exists() and len(pids.read_text().split()) == count):
            assert time.monotonic() < deadline and parent.poll() is None, "the workers did not start"
            time.sleep(0.02)
        started = {int(pid) for pid in pids.read_text().split()}
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in started):
            assert time.monotonic() < deadline, "a process outlived its parent"
            time.sleep(0.05)
    finally:
        parent.kill()


# ---- a zygote: set up once, before the work is known, then forks the workers ----------


def zygote_collect(processes: int, chunks: int, work, run, start=lambda: None, blobs=()):
    """Run WORK's chunks through a zygote's workers: the answers and what was undone."""
    answers: dict[int, object] = {}

    def answer(number: int, result: object) -> None:
        assert number not in answers
        answers[number] = result

    fds, kept = open_fds(), children(os.getpid())
    zygote = Zygote(processes, start, run)
    undone = zygote.run(chunks, work, list(blobs), answer)
    zygote.close()
    assert open_fds() == fds and children(os.getpid()) <= kept
    return answers, undone


def test_a_zygote_s_workers_answer_every_chunk_of_the_work_sent_to_them() -> None:
    work = [f"chunk {n}" for n in range(30)]
    blobs = [bytes([n]) * (n * 50_000) for n in range(30)]  # 22 MB in all: more than a pipe holds
    answers, undone = zygote_collect(3, 30, work, lambda sent, got, n: (sent[n], bytes(got[n]), os.getpid()), blobs=blobs)
    assert undone == set()
    assert {n: (text, blob) for n, (text, blob, _) in answers.items()} == {n: (work[n], blobs[n]) for n in range(30)}
    workers = {pid for _, _, pid in answers.values()}
    assert os.getpid() not in workers and 1 <= len(workers) <= 3
    assert not any(alive(pid) for pid in workers)  # the zygote reaped them before it ended


def test_a_zygote_sets_up_once_and_its_workers_start_set_up() -> None:
    state: dict[str, int] = {}

    def start() -> None:
        state["set up in"] = os.getpid()

    answers, undone = zygote_collect(2, 8, None, lambda _, __, n: (state.get("set up in"), os.getpid()), start)
    assert undone == set() and "set up in" not in state  # never here
    [zygote] = {setup for setup, _ in answers.values()}
    assert zygote not in {pid for _, pid in answers.values()}


def test_a_zygote_s_worker_that_dies_leaves_its_chunk_undone() -> None:
    answers, undone = zygote_collect(2, 12, None, lambda _, __, n: os._exit(70) if n == 3 else n)
    assert undone == {3} and set(answers) == set(range(12)) - {3}


def test_a_zygote_whose_set_up_fails_leaves_everything_undone(capfd) -> None:
    def start() -> None:
        raise RuntimeError("cannot set up")

    assert zygote_collect(2, 5, None, lambda _, __, n: n, start) == ({}, set(range(5)))
    assert "RuntimeError: cannot set up" in capfd.readouterr().err


def test_a_zygote_never_used_ends_at_once_even_while_setting_up() -> None:
    import time

    fds, kept = open_fds(), children(os.getpid())
    zygote = Zygote(2, lambda: time.sleep(30), lambda _, __, n: n)
    started = time.monotonic()
    zygote.close()
    assert time.monotonic() - started < 5
    assert open_fds() == fds and children(os.getpid()) <= kept


def test_the_workers_of_a_zygote_never_used_end_with_it(tmp_path) -> None:
    import time

    pids = tmp_path / "pids"
    zygote = Zygote(2, lambda: pids.write_text(str(os.getpid())), lambda _, __, n: n)
    deadline = time.monotonic() + 30
    while not pids.exists() or not children(int(pids.read_text())):  # set up, and its workers forked
        assert time.monotonic() < deadline, "the zygote forked no worker"
        time.sleep(0.01)
    workers = children(int(pids.read_text()))
    zygote.close()
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers):
        assert time.monotonic() < deadline, "a worker outlived its zygote"
        time.sleep(0.02)


def test_an_error_here_ends_a_zygote_s_workers() -> None:
    pids: list[int] = []

    def answer(number: int, result: object) -> None:
        pids.append(result)  # type: ignore[arg-type]
        raise KeyboardInterrupt  # Ctrl-C while results arrive

    fds, kept = open_fds(), children(os.getpid())
    zygote = Zygote(2, lambda: None, lambda _, __, n: __import__("time").sleep(0.05) or os.getpid())
    with pytest.raises(KeyboardInterrupt):
        zygote.run(50, None, [], answer)
    zygote.close()
    assert open_fds() == fds and children(os.getpid()) <= kept
    assert pids and not any(alive(pid) for pid in pids)


def test_a_zygote_and_its_workers_end_when_the_parent_is_killed(tmp_path) -> None:
    pids = tmp_path / "pids"
    script = (
        "import os, time\n"
        "from mesh_migrate.extract.forked import Zygote\n"
        f"def run(work, blobs, n):\n    open({str(pids)!r}, 'a').write(f'{{os.getppid()}} {{os.getpid()}}\\n')\n    time.sleep(60)\n"
        "Zygote(2, lambda: None, run).run(2, None, [], lambda n, r: None)\n"
    )
    assert_end_with_their_parent(script, pids, 4)  # the zygote (each worker's parent) and its two workers
