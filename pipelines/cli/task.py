"""`docpatch task`: a task description becomes a versioned task adapter (pipelines.task_adapters)."""
from __future__ import annotations

import argparse

from pipelines.settings import Settings

from pipelines.cli.options import Command, add_settings_flags
from pipelines.cli.output import UserError, emit, note, one_line


def task(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.task_adapters import BrokenAdapter, make_task_adapter

    try:
        result = make_task_adapter(settings, args.name, args.description)
    except BrokenAdapter as exc:
        note(f"docpatch: error: {one_line(exc)}")
        return 1
    except ValueError as exc:  # an unsafe name, an empty description, a hypernetwork for another model
        raise UserError(one_line(exc)) from None
    what = "new version" if result["created"] else "latest again" if result["pointer_moved"] else "already current"
    emit(args, result, text=f"{result['name']}: {result['version_id']} ({what}), rank {result['rank']}, "
                            f"{result['seconds']:.2f} s")
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("description", metavar="DESCRIPTION",
                   help='what the adapter should make the model do, in plain words, e.g. "Answer in French."')
    p.add_argument("--name", required=True, metavar="NAME",
                   help="the task's name in the store (letters, digits, . _ -); `ask --task NAME` uses it")
    add_settings_flags(p, names=("task_hypernet_path",))
    p.epilog = ("The same description again reuses its version; a changed one makes a new version. "
                "List, show, export (a PEFT folder), verify, roll back: `docpatch adapters ACTION --tasks`.")


COMMANDS = (Command("task", "make a task adapter from a description (Text-to-LoRA), versioned in the store", task,
                    add_arguments),)
