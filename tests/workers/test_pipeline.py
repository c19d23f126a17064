"""The whole pipeline on a real local Ray with the tiny model."""
from __future__ import annotations

import dataclasses
import glob
import json
import os
import signal
import threading
import time

import pytest

from hypernet.peft_format import from_peft_files
from workers.pipeline import AdapterResult, generate_adapters, model_identity, preflight
from workers.config import WorkerConfig


class Collector:
    """on_result that keeps everything it is given (and can refuse chosen documents)."""

    def __init__(self, refuse: set[str] = frozenset(), on_each=None):
        self.results: list[AdapterResult] = []
        self.refuse = refuse
        self.on_each = on_each
        self.lock = threading.Lock()

    def __call__(self, result: AdapterResult) -> None:
        with self.lock:
            self.results.append(result)
        if self.on_each:
            self.on_each(len(self.results))
        if result.doc_id in self.refuse:
            raise OSError("registry refused the write")

    def by_id(self) -> dict[str, AdapterResult]:
        ids = [r.doc_id for r in self.results]
        assert len(ids) == len(set(ids)), "a document was delivered twice"
        return {r.doc_id: r for r in self.results}


def adapter_pids(report_dir) -> list[int]:
    """Model-actor processes that have reported in (see WorkerConfig.actor_report_dir)."""
    infos = [json.loads(open(f).read()) for f in sorted(glob.glob(str(report_dir / "*.json")))]
    return [i["pid"] for i in infos if i["stage"] == "adapter"]


def test_every_document_gets_exactly_one_result(ray_local, tiny_cfg, make_docs, docs_table, capsys):
    docs = make_docs(20)
    docs[3]["text"] = ""  # raises in the chunk stage: recorded, the rest go on
    docs.append(dict(docs[5]))  # a repeated doc_id: processed once, counted as skipped
    sink = Collector(refuse={"doc-0007"})
    summary = generate_adapters(docs_table(docs), tiny_cfg, sink, progress=True)

    got = sink.by_id()
    assert set(got) == {d["doc_id"] for d in docs}
    assert got["doc-0003"].ok is False and got["doc-0003"].error == "ValueError: document has no tokens"
    for doc_id, r in got.items():
        if doc_id == "doc-0003":
            continue
        assert r.ok and r.error is None, r.error
        assert r.doc_sha256 == doc_id.replace("doc", "sha")
        lora = from_peft_files(r.files)
        assert lora.rank == r.rank and r.n_chunks >= 1 and r.n_tokens > 0
    assert (summary.total, summary.patched, summary.failed, summary.skipped) == (20, 18, 2, 1)
    assert set(summary.errors) == {"doc-0003", "doc-0007"}
    assert summary.errors["doc-0007"] == "on_result: OSError: registry refused the write"
    assert summary.pipeline_error is None
    assert (summary.hypernet_id, summary.base_model_id, summary.base_model_revision, summary.refine) == model_identity(tiny_cfg)
    err = capsys.readouterr().err
    assert "20/20" in err and "18 patched, 1 skipped, 2 failed" in err


def test_killed_actor_is_replaced_and_its_documents_redone(ray_local, tiny_cfg, make_docs, docs_table, tmp_path):
    # 10 batches of 8: the kill comes after the first batch's results, when more batches are left than
    # the two actors hold (two each), so the killed actor dies holding batches that must be redone.
    docs = make_docs(80, words=30)
    report = tmp_path / "actors"
    # The actors refine what they generate, as in production; one step (not the default) keeps the
    # test affordable on CPUs.
    cfg = dataclasses.replace(tiny_cfg, num_actors=2, cpus_per_actor=0.5, actor_report_dir=str(report),
                              refine_steps=1)
    halfway = threading.Event()
    killed: list[int] = []

    def killer() -> None:
        # Mid-run: some results are in, most are not; kill one model actor's process outright.
        # On a loaded machine the actors may not have reported in yet: wait for one, then kill it.
        halfway.wait(timeout=600)
        deadline = time.monotonic() + 300
        while not (pids := adapter_pids(report)) and time.monotonic() < deadline:
            time.sleep(0.5)
        os.kill(pids[0], signal.SIGKILL)
        killed.append(pids[0])

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    sink = Collector(on_each=lambda n: n == 8 and halfway.set())
    summary = generate_adapters(docs_table(docs), cfg, sink, progress=False)
    thread.join(timeout=5)

    assert killed, "the actor was never killed"
    got = sink.by_id()  # asserts none twice
    assert set(got) == {d["doc_id"] for d in docs}  # none lost
    assert all(r.ok or r.error for r in got.values())
    assert summary.patched + summary.failed == 80
    assert summary.patched == 80, summary.errors  # Ray redid the dead actor's batches
    assert len(adapter_pids(report)) >= 3, "the killed actor should have been replaced by a new process"
    assert summary.refine == cfg.refine.key() != "", "the adapters should have been refined"


def test_batch_given_up_after_its_actor_died_is_reported_failed(ray_local, tiny_cfg, make_docs, docs_table, tmp_path):
    report = tmp_path / "actors"
    cfg = dataclasses.replace(tiny_cfg, max_task_retries=0, actor_report_dir=str(report))

    def kill_after_first_batch(n: int) -> None:
        # At the first result the actor still holds queued batches (up to 2 in flight, 5 in all).
        if n == 1:
            os.kill(adapter_pids(report)[0], signal.SIGKILL)

    sink = Collector(on_each=kill_after_first_batch)
    summary = generate_adapters(docs_table(make_docs(40, words=30)), cfg, sink, progress=False)
    got = sink.by_id()
    assert len(got) == 40 and summary.patched + summary.failed == 40
    lost = [r for r in got.values() if not r.ok]
    assert lost, "with no retries the dead actor's batches cannot be redone"
    assert all(r.error.startswith("RuntimeError: batch lost") for r in lost), lost[0].error
    assert summary.pipeline_error is None


def test_pipeline_that_breaks_off_reports_every_document_failed(ray_local, tiny_cfg, make_docs, docs_table, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    cfg = dataclasses.replace(tiny_cfg, actor_report_dir=str(blocker / "sub"))  # actors cannot start
    sink = Collector()
    summary = generate_adapters(docs_table(make_docs(6)), cfg, sink, progress=False)
    got = sink.by_id()
    assert len(got) == 6 and not any(r.ok for r in got.values())
    assert summary.pipeline_error and summary.failed == 6
    assert all(r.error == summary.pipeline_error for r in got.values())


def test_models_that_do_not_fit_together_fail_before_ray(tiny_model_path):
    cfg = WorkerConfig(base_model=tiny_model_path)  # the shipped hypernet is for gemma-3-270m
    with pytest.raises(ValueError, match="hypernetwork is for 18 layers"):
        preflight(cfg)


def test_missing_input_columns_are_named(tiny_cfg):
    import pyarrow as pa

    with pytest.raises(ValueError, match="sha256"):
        generate_adapters(pa.table({"doc_id": ["a"], "text": ["x"]}), tiny_cfg, lambda r: None)


def test_no_documents_means_no_ray_work(tiny_cfg, docs_table):
    summary = generate_adapters(docs_table([]), tiny_cfg, lambda r: None, progress=False)
    assert summary.total == summary.patched == summary.failed == 0


@pytest.mark.gpu
def test_two_actors_share_one_gpu(ray_local, tiny_cfg, make_docs, docs_table):
    cfg = dataclasses.replace(tiny_cfg, num_actors=2, gpus_per_actor=0.5, cpus_per_actor=0.5)
    sink = Collector()
    summary = generate_adapters(docs_table(make_docs(32)), cfg, sink, progress=False)
    assert summary.patched == 32 and len(sink.by_id()) == 32
