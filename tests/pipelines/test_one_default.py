"""Each knob is defined once, in its dataclass: the CLI flags, the flows' parameters and the
deployments in infra/prefect.yaml take their defaults from there, so a second default cannot creep back.

The dataclasses: pipelines.settings.Settings (extending workers.config.WorkerConfig),
hypernet.config.TrainConfig, workers.config.MetaTrainConfig and pipelines.meta_train.job.MetaTrainJob.
"""
from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
from pathlib import Path

import pytest
import yaml

from hypernet.config import TrainConfig
from pipelines import cli, flows
from pipelines.cli import train as train_cli
from pipelines.meta_train.job import MetaTrainJob
from pipelines.settings import Settings
from workers.config import MetaTrainConfig, WorkerConfig

ROOT = Path(__file__).resolve().parents[2]
PREFECT_YAML = ROOT / "infra" / "prefect.yaml"
CONFIGS = {Settings: None, MetaTrainJob: None}  # the dataclasses a flow takes (None: their defaults)
FLOWS = (flows.ingest_flow, flows.patch_flow, flows.nightly_repatch, flows.meta_train_flow)


def _fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def _own_fields(cls, base) -> dict[str, dataclasses.Field]:
    return {name: f for name, f in _fields(cls).items() if name not in _fields(base)}


def _knobs(command: str) -> dict[str, dataclasses.Field]:
    """The dataclass fields a sub-command's flags may set."""
    if command != "train":
        return _fields(Settings)
    # The trainer's copies of settings (base_model, ...) are set by the settings' flags.
    return {**_fields(TrainConfig), **_fields(MetaTrainJob), **_fields(Settings)}


def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """Every parser of the command line with its sub-command path: ("train",), ("adapters", "list"), ..."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, path + (name,))


def _options(parser: argparse.ArgumentParser):
    return [a for a in parser._actions if a.option_strings and not isinstance(a, argparse._HelpAction)]


def _default_of(f: dataclasses.Field):
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


ALL_PARSERS = list(_parsers(cli.build_parser()))


@pytest.mark.parametrize("path, parser", ALL_PARSERS, ids=[" ".join(("docpatch",) + path) for path, _ in ALL_PARSERS])
def test_every_flag_that_sets_a_knob_takes_its_default_and_help_from_the_dataclass(path, parser):
    knobs = _knobs(path[0] if path else "")
    dests = [a.dest for a in _options(parser)]
    assert len(dests) == len(set(dests)), f"a knob has two flags: {sorted(d for d in dests if dests.count(d) > 1)}"
    for action in _options(parser):
        f = knobs.get(action.dest)
        if f is None:
            # A command's own argument (--corpus, --json, ...): it must not shadow a knob's flag name.
            names = {"--" + name.replace("_", "-") for name in knobs}
            assert not set(action.option_strings) & names, f"{action.option_strings} hides a dataclass field"
            continue
        # None: "not given", so the dataclass default (or a lower source of settings) applies.
        assert action.default is None, f"{action.option_strings} has a default of its own: {action.default!r}"
        assert f.metadata["help"] in action.help, f"{action.option_strings} does not show the field's help"
        assert f"default: {f.default!r}]" in action.help, f"{action.option_strings} shows another default"


def test_the_train_command_has_a_flag_for_each_knob_it_names():
    (train,) = [p for path, p in ALL_PARSERS if path == ("train",)]
    flags = {a.dest: a.option_strings[0] for a in _options(train)}
    for name, flag, _ in train_cli.TRAIN_FLAGS + train_cli.SINGLE_PROCESS_FLAGS + train_cli.JOB_FLAGS:
        assert flags[name] == flag
    # The single-process trainer's own copies of settings come from the settings' flags and environment.
    assert set(train_cli.FROM_SETTINGS) == set(_fields(TrainConfig)) & set(_fields(Settings)) - {"batch_docs"}


def test_eval_flags_state_the_defaults_of_the_finetune_baseline():
    """FinetuneConfig imports torch, so `docpatch eval --help` states its defaults in words: they must agree."""
    from hypernet.evaluate import FinetuneConfig

    (parser,) = [p for path, p in ALL_PARSERS if path == ("eval",)]
    helps = {a.dest: a.help for a in _options(parser)}
    for name in ("steps", "self_questions"):
        stated = re.search(r"default: (\d+)\)", helps[f"finetune_{name}"]).group(1)
        assert int(stated) == getattr(FinetuneConfig(), name), name


def test_no_knob_is_a_field_of_two_dataclasses():
    owners: dict[str, list[str]] = {}
    for cls, fields in ((WorkerConfig, _fields(WorkerConfig)), (Settings, _own_fields(Settings, WorkerConfig)),
                        (TrainConfig, _fields(TrainConfig)), (MetaTrainConfig, _fields(MetaTrainConfig)),
                        (MetaTrainJob, _own_fields(MetaTrainJob, MetaTrainConfig))):
        for name in fields:
            owners.setdefault(name, []).append(cls.__name__)
    shared = {name: classes for name, classes in owners.items() if len(classes) > 1}
    # The single-process trainer (hypernet/, which cannot import workers/) keeps its own copy of three
    # settings; `docpatch train` fills them from the settings, and their defaults agree.
    same_knob = {"base_model", "dtype", "torch_threads"}
    # Two ideas under one name: documents per actor batch, documents per single-process optimizer step.
    name_clash = {"batch_docs"}
    assert shared == {name: ["WorkerConfig", "TrainConfig"] for name in same_knob | name_clash}
    for name in same_knob:
        assert _fields(WorkerConfig)[name].default == _fields(TrainConfig)[name].default, name


def test_each_list_of_choices_is_written_once():
    sources = [p for package in ("hypernet", "workers", "pipelines") for p in (ROOT / package).rglob("*.py")]
    for literal in ('"auto", "float32", "bfloat16", "float16"', '"auto", "model", "bfloat16"'):
        homes = [str(p.relative_to(ROOT)) for p in sources if literal in p.read_text()]
        assert homes == ["hypernet/config.py"], (literal, homes)


@pytest.mark.parametrize("flow", FLOWS, ids=lambda f: f.name)
def test_flows_take_their_knobs_in_the_dataclasses(flow):
    knobs = set(_fields(Settings)) | set(_fields(TrainConfig)) | set(_fields(MetaTrainJob))
    for name, param in inspect.signature(flow.fn).parameters.items():
        annotation = param.annotation.replace(" | None", "")
        if annotation in {cls.__name__ for cls in CONFIGS}:
            assert param.default is None, f"{flow.name}: {name} defaults to the dataclass's defaults"
        else:
            # Inputs (source, corpus) and run switches (full, progress), none of them a dataclass field.
            assert name not in knobs, f"{flow.name}: parameter {name} is a dataclass field defined again"
    assert list(inspect.signature(flows.meta_train_flow.fn).parameters) == ["settings", "job", "progress"]


def test_cli_switches_of_a_flow_default_like_the_flow():
    (patch,) = [p for path, p in ALL_PARSERS if path == ("patch",)]
    (full,) = [a for a in _options(patch) if a.dest == "full"]
    assert full.default == inspect.signature(flows.patch_flow.fn).parameters["full"].default


def _restated(values: dict, cls, where: str) -> list[str]:
    """Deployment values that name no field of `cls` or repeat its default (nested dataclasses too)."""
    fields, out = _fields(cls), []
    for name, value in values.items():
        if name not in fields:
            out.append(f"{where}.{name}: not a field of {cls.__name__}")
        elif isinstance(value, dict) and dataclasses.is_dataclass(_default_of(fields[name])):
            out += _restated(value, type(_default_of(fields[name])), f"{where}.{name}")
        elif value == _default_of(fields[name]):
            out.append(f"{where}.{name}: restates the default {value!r}")
    return out


def _deployments() -> dict[str, dict]:
    return {d["name"]: d for d in yaml.safe_load(PREFECT_YAML.read_text())["deployments"]}


def test_deployment_parameters_name_knobs_and_restate_no_default():
    problems = []
    for name, d in _deployments().items():
        flow = getattr(flows, d["entrypoint"].split(":")[1])
        signature = inspect.signature(flow.fn).parameters
        for param, value in (d.get("parameters") or {}).items():
            cls = {"settings": Settings, "job": MetaTrainJob}.get(param)
            if cls is not None:
                problems += _restated(value, cls, f"{name}: {param}")
                cls(**value)  # and it is valid
            elif param not in signature:
                problems.append(f"{name}: {param} is not a parameter of {flow.name}")
            elif value == signature[param].default:
                problems.append(f"{name}: {param} restates the flow's default {value!r}")
    assert not problems


def _optimisation(cfg: TrainConfig) -> dict:
    """What decides how the hypernetwork trains, beside where and on what it runs."""
    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if not f.metadata.get("single_process")}


def test_docpatch_train_and_the_meta_train_deployment_train_with_the_same_defaults(tmp_path):
    parser = cli.build_parser()
    settings = Settings(store=str(tmp_path / "store"))
    single = train_cli.single_process_config(parser.parse_args(["train"]), settings)
    flow_job = train_cli.meta_train_job(parser.parse_args(["train", "--workers", "2"]))
    deployed = [MetaTrainJob(**d["parameters"].get("job", {})) for d in _deployments().values()
                if d["entrypoint"].endswith(":meta_train_flow")]
    assert {job.training_corpus for job in deployed} == {"", "kb"}  # the generic run and the knowledge base's own
    assert single == TrainConfig(**{name: getattr(settings, name) for name in train_cli.FROM_SETTINGS})
    for job in deployed:
        assert _optimisation(single) == _optimisation(flow_job.train) == _optimisation(job.train) \
            == _optimisation(MetaTrainJob().train) == _optimisation(TrainConfig())
    assert flow_job == MetaTrainJob(num_workers=2)  # the flow's defaults, --workers aside


def test_a_field_added_to_worker_config_is_a_setting_and_a_flag_of_the_worker_commands(tmp_path):
    """Adding a knob is one field in one dataclass: Settings, its environment variable, the flags and
    the workers' view all follow."""
    from pipelines.settings import COMMON, WORKERS, flag_of

    for f in dataclasses.fields(WorkerConfig):
        assert f.name in _fields(Settings)
    (patch,) = [p for path, p in ALL_PARSERS if path == ("patch",)]
    patch_dests = {a.dest for a in _options(patch)}
    for f in dataclasses.fields(Settings):
        flag, group = flag_of(f)
        assert (f.name in patch_dests) == (group in (COMMON, WORKERS)), f.name
    worker = Settings(store=str(tmp_path), hypernet_path=str(tmp_path), num_actors=3).to_worker_config()
    assert worker.num_actors == 3 and type(worker) is WorkerConfig
