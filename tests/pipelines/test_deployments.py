"""The deployments `docpatch serve` builds, and triggering the patch from another flow."""
from __future__ import annotations

import pytest

from pipelines.serve import patch_deployment, trigger_patch
from pipelines.settings import Settings

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_trigger_patch_starts_the_corpus_patch_with_changed_settings(tmp_path):
    settings = Settings(store=str(tmp_path / "store"), num_actors=3, ray_address="10.0.0.1:6379")
    patch_deployment("kb", settings).apply()

    run = trigger_patch("kb", timeout=0, hypernet_path=str(tmp_path / "new-hypernet"))
    served = run.parameters["settings"]
    assert served["hypernet_path"] == str(tmp_path / "new-hypernet")
    assert (served["num_actors"], served["ray_address"], served["store"]) == (3, "10.0.0.1:6379", settings.store)
    assert run.parameters["full"] is False and run.state.is_scheduled()

    plain = trigger_patch("kb", full=True, timeout=0)  # no changes: the served settings as they are
    assert plain.parameters["full"] is True and plain.parameters["settings"] == settings.record()
