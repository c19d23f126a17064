"""Settings: one object, defaults in one place, flags > environment > docpatch.toml > defaults."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.settings import Settings, SettingsError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """Each test starts in an empty folder with no DOCPATCH_* variables."""
    import os

    for name in list(os.environ):
        if name.startswith("DOCPATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_put_the_store_under_the_working_directory(tmp_path):
    s = Settings.load()
    assert s.store == str((tmp_path / ".docpatch" / "store").resolve())
    assert s.base_model == "packaged:gemma-3-270m" and s.num_actors == 1 and s.hypernet_path == ""


def test_flags_beat_environment_beat_toml_beat_defaults(tmp_path, monkeypatch):
    (tmp_path / "docpatch.toml").write_text('store = "from-toml"\nnum_actors = 3\nbatch_docs = 7\ndtype = "float32"\n')
    monkeypatch.setenv("DOCPATCH_NUM_ACTORS", "5")
    monkeypatch.setenv("DOCPATCH_BATCH_DOCS", "9")
    s = Settings.load({"batch_docs": 11, "ray_address": None})
    assert s.batch_docs == 11  # flag
    assert s.num_actors == 5  # environment
    assert s.store == str(tmp_path / "from-toml") and s.dtype == "float32"  # toml
    assert s.ray_address == ""  # default (a None flag means "not given")


def test_docpatch_config_names_the_settings_file(tmp_path, monkeypatch):
    cfg = tmp_path / "elsewhere.toml"
    cfg.write_text('gpus_per_actor = 1\nstore = "s3://bucket/kb"\n')
    monkeypatch.setenv("DOCPATCH_CONFIG", str(cfg))
    s = Settings.load()
    assert s.gpus_per_actor == 1.0 and isinstance(s.gpus_per_actor, float)
    assert s.store == "s3://bucket/kb"  # URIs are left alone


@pytest.mark.parametrize("source, match", [
    ({"env": {"DOCPATCH_NUM_ACTORS": "two"}}, "DOCPATCH_NUM_ACTORS must be a whole number"),
    ({"toml": "num_actrs = 2\n"}, "unknown setting key .* 'num_actrs'"),
    ({"toml": "store = 3\n"}, "store must be a string"),
    ({"toml": "store = \n"}, "not valid TOML"),
    ({"env": {"DOCPATCH_CONFIG": "/no/such.toml"}}, "config file /no/such.toml not found"),
    ({"flags": {"num_actors": 0}}, "num_actors must be at least 1"),
    ({"flags": {"dtype": "int8"}}, "dtype must be"),
    ({"env": {"DOCPATCH_READ_DTYPE": "float16"}}, "read_dtype must be auto, model or bfloat16"),
    ({"flags": {"text_field": ""}}, "text_field must not be empty"),
    ({"toml": 'id_field = "body"\ntext_field = "body"\n'}, "id_field and text_field must differ"),
])
def test_bad_values_raise_one_clear_settings_error(tmp_path, source, match):
    if "toml" in source:
        (tmp_path / "docpatch.toml").write_text(source["toml"])
    with pytest.raises(SettingsError, match=match):
        Settings.load(source.get("flags"), env=source.get("env", {}))


def test_record_is_json_and_holds_no_credentials(monkeypatch):
    monkeypatch.setenv("DOCPATCH_STORAGE_OPTIONS", json.dumps({"key": "AKIA", "secret": "hush"}))
    s = Settings.load({"store": "s3://AKIA:hush@bucket/kb"})
    assert s.storage_options == {"key": "AKIA", "secret": "hush"}
    text = json.dumps(s.record())
    assert "hush" not in text and "AKIA" not in text and '"store": "s3://bucket/kb"' in text


def test_storage_options_must_be_a_json_object(monkeypatch):
    monkeypatch.setenv("DOCPATCH_STORAGE_OPTIONS", "[1, 2]")
    with pytest.raises(SettingsError, match="JSON object"):
        Settings.load().storage_options


def test_to_worker_config_maps_every_worker_setting():
    s = Settings.load({"base_model": "/models/x", "hypernet_path": "/hn", "num_actors": 2, "gpus_per_actor": 0.5,
                       "cpus_per_actor": 0.25, "batch_docs": 8, "max_batch_tokens": 1024, "ray_address": "auto",
                       "read_dtype": "model"})
    w = s.to_worker_config()
    assert (w.base_model, w.hypernet_path, w.num_actors, w.gpus_per_actor, w.cpus_per_actor,
            w.batch_docs, w.max_batch_tokens, w.ray_address, w.read_dtype) == \
        ("/models/x", "/hn", 2, 0.5, 0.25, 8, 1024, "auto", "model")


def test_with_overrides_checks_names():
    s = Settings.load()
    assert s.with_overrides(batch_docs=2).batch_docs == 2
    with pytest.raises(SettingsError, match="unknown setting"):
        s.with_overrides(batch=2)
