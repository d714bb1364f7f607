"""The per-file budget of `unmask.worker.FileWorker`: work that passes it is ended by force,
a dying worker is reported, and the next file is handled by a fresh worker."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import hostile_factory
import pytest
import worker_tasks
from media_factory import EXAMPLE

from unmask import hashing
from unmask.errors import CorruptMediaError, LimitExceededError, TimeBudgetExceededError
from unmask.hashing import ServerBusyError, hash_file, hash_file_isolated
from unmask.worker import FileWorker, WorkerCrashedError


@pytest.fixture(autouse=True)
def tasks_importable_in_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(Path(worker_tasks.__file__).parent))


def test_a_call_stuck_in_c_is_killed_at_its_budget_and_the_next_call_runs():
    with FileWorker(0.5, grace_s=0.5) as worker:
        with pytest.raises(TimeBudgetExceededError, match=r"time budget of 0\.5 s") as caught:
            worker.run(worker_tasks.spin_in_c)
        assert "--time-budget" in caught.value.hint
        assert worker.restarts == 1
        assert worker.run(worker_tasks.echo, "next file") == "next file"


def test_a_sleeping_call_is_killed_too():
    with FileWorker(0.2, grace_s=0.2) as worker:
        with pytest.raises(TimeBudgetExceededError):
            worker.run(worker_tasks.sleep_for, 60)
        assert worker.run(worker_tasks.echo, 7) == 7


def test_state_is_built_once_per_worker_and_again_after_a_restart():
    with FileWorker(0.5, worker_tasks.make_state, grace_s=0.5) as worker:
        first = worker.run(worker_tasks.state_of)
        assert worker.run(worker_tasks.state_of) == first
        with pytest.raises(TimeBudgetExceededError):
            worker.run(worker_tasks.sleep_for, 60)
        assert worker.run(worker_tasks.state_of) != first  # a new process, a new state


def test_a_crashing_decoder_is_reported_and_the_worker_replaced():
    with FileWorker(30) as worker:
        with pytest.raises(WorkerCrashedError, match="crashed") as caught:
            worker.run(worker_tasks.crash)
        assert caught.value.code == "worker_crashed" and caught.value.hint
        assert worker.run(worker_tasks.echo, "still here") == "still here"


def test_memory_error_becomes_a_clear_out_of_memory_error():
    with FileWorker(30) as worker:
        with pytest.raises(Exception, match="more memory") as caught:
            worker.run(worker_tasks.run_out_of_memory)
        assert getattr(caught.value, "code", None) == "out_of_memory"


def test_our_errors_keep_their_kind_message_and_hint():
    with FileWorker(30) as worker, pytest.raises(CorruptMediaError) as caught:
        worker.run(worker_tasks.refuse)
    assert caught.value.message == "the picture is damaged"
    assert caught.value.hint == "download it again"


def test_a_setup_error_is_raised_in_the_caller():
    worker = FileWorker(30, worker_tasks.fail_to_start)
    with pytest.raises(ValueError, match="crystal-ball"):
        worker.start()


def test_a_task_the_worker_cannot_import_is_an_error_not_a_crash(monkeypatch):
    monkeypatch.delenv("PYTHONPATH")  # worker_tasks is not importable in the worker now
    with FileWorker(30) as worker:
        with pytest.raises(RuntimeError, match="unreadable task"):
            worker.run(worker_tasks.echo, 1)
        assert worker.restarts == 0


def test_the_worker_memory_cap_turns_a_runaway_allocation_into_an_error():
    with FileWorker(30, memory_bytes=1024**3) as worker:
        assert worker.run(worker_tasks.allocate, 100) == 100 * 1024 * 1024
        with pytest.raises(Exception, match="more memory") as caught:
            worker.run(worker_tasks.allocate, 2048)
        assert getattr(caught.value, "code", None) == "out_of_memory"
        assert worker.restarts == 0  # the same worker goes on


def test_progress_reaches_the_caller_while_the_call_runs():
    heard: list[object] = []
    with FileWorker(5.0, grace_s=0.5) as worker:
        sent = worker.run(worker_tasks.chatty, 0.3, on_progress=heard.append)
    assert sent > 0 and heard == [("working", n, None) for n in range(sent)]


def test_progress_does_not_extend_the_budget():
    with FileWorker(0.5, grace_s=0.3) as worker:
        with pytest.raises(TimeBudgetExceededError):
            worker.run(worker_tasks.chatty, 60, on_progress=lambda _: None)
        assert worker.run(worker_tasks.echo, "next") == "next"


def test_the_worker_runs_numerical_libraries_on_one_thread_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "3")
    with FileWorker(5.0) as worker:
        assert worker.run(worker_tasks.environment, "OMP_NUM_THREADS") == "1"
        assert worker.run(worker_tasks.environment, "OPENBLAS_NUM_THREADS") == "3"


def test_the_worker_runs_opencv_on_one_thread_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.delenv("OPENCV_FOR_THREADS_NUM", raising=False)
    with FileWorker(5.0) as worker:
        assert worker.run(worker_tasks.opencv_threads) == 1
    monkeypatch.setenv("OPENCV_FOR_THREADS_NUM", "2")
    with FileWorker(5.0) as worker:
        assert worker.run(worker_tasks.opencv_threads) == 2


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (hostile_factory.png_claims_huge, "3600 megapixels, above the limit of 100"),
        (hostile_factory.png_many_chunks, "more than 100,000 chunks"),
    ],
)
def test_an_upload_hashed_in_a_worker_is_refused_with_the_decoders_own_reason(
    tmp_path: Path, make: object, reason: str
):
    bomb = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(LimitExceededError, match=reason) as caught:
        hash_file_isolated(bomb, 20)
    assert caught.value.hint, "the hint crosses from the worker too"


def test_an_upload_hashed_in_a_worker_gets_the_hashes_of_hashing_it_here():
    assert hash_file_isolated(EXAMPLE, 20, window_cuts=(0.05,)) == hash_file(
        EXAMPLE, window_cuts=(0.05,)
    )


def test_hashing_workers_wait_for_a_free_slot_and_then_are_refused_as_busy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(hashing, "_SLOTS", threading.BoundedSemaphore(1))
    monkeypatch.setattr(hashing, "HASHING_WAIT_S", 0.3)
    monkeypatch.setattr(hashing, "hash_in_worker", worker_tasks.hash_or_hang)
    monkeypatch.setattr("unmask.worker.KILL_GRACE_S", 0.5)
    stuck = tmp_path / "stuck.jpeg"
    stuck.write_bytes(EXAMPLE.read_bytes())
    ended: list[BaseException] = []

    def hash_stuck() -> None:
        try:
            hash_file_isolated(stuck, 1.5)
        except BaseException as exc:
            ended.append(exc)

    holder = threading.Thread(target=hash_stuck)
    holder.start()
    for _ in range(300):  # until the one slot's worker hangs in C
        if stuck.with_suffix(".hashing").exists() or not holder.is_alive():
            break
        time.sleep(0.05)
    assert stuck.with_suffix(".hashing").exists()
    started = time.monotonic()
    with pytest.raises(ServerBusyError, match=r"every hashing worker stayed taken for 0\.3 s"):
        hash_file_isolated(EXAMPLE, 20)
    assert time.monotonic() - started < 1.0, "the wait is bounded, not queued behind the worker"
    holder.join(10)
    assert isinstance(ended[0], TimeBudgetExceededError)
    assert hash_file_isolated(EXAMPLE, 20).pdq == hash_file(EXAMPLE).pdq, "the slot came back"


def test_a_hashing_worker_the_system_cannot_start_is_a_busy_server_not_a_bad_file(
    monkeypatch: pytest.MonkeyPatch,
):
    def no_processes(*_args: object, **_kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", no_processes)
    slots = hashing.hashing_slots()
    with pytest.raises(ServerBusyError, match="could not start a hashing process"):
        hash_file_isolated(EXAMPLE, 20)
    assert slots.acquire(timeout=0)  # its slot was given back
    slots.release()
