"""`docpatch ask`: one question about one document (pipelines.answering.ask), or under a task adapter, alone or
composed with the document's (pipelines.answering.ask_task)."""
from __future__ import annotations

import argparse

from pipelines.answering import MODES
from pipelines.settings import Settings

from pipelines.cli.options import Command, add_settings_flags
from pipelines.cli.output import UserError, emit

DOC_TOKENS, TASK_TOKENS = 24, 48  # a task's output may span lines (a list, a sign-off)


def ask(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.answering import ask as answer_question
    from pipelines.answering import ask_task
    from pipelines.lookup import latest_snapshot

    doc_id, question = _document_and_question(args)
    if doc_id is not None:
        latest_snapshot(settings, args.corpus)
    if args.task:
        result = ask_task(settings, args.task, question, corpus=args.corpus, doc_id=doc_id, mode=args.mode,
                          max_new_tokens=args.max_new_tokens or TASK_TOKENS)
    else:
        result = answer_question(settings, args.corpus, doc_id, question, args.mode, args.max_new_tokens or DOC_TOKENS)
    emit(args, result, text=result["answer"])
    return 0


def _document_and_question(args: argparse.Namespace) -> tuple[str | None, str]:
    """(doc id or None, question): DOC_ID QUESTION with --corpus, QUESTION alone with --task alone."""
    if not args.corpus and not args.task:
        raise UserError("ask needs --corpus NAME DOC_ID QUESTION, or --task NAME INPUT")
    if bool(args.corpus) != (args.doc_id is not None):
        raise UserError("with --corpus give DOC_ID QUESTION; with --task alone give INPUT (one argument)")
    return args.doc_id, args.question


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", default=None, metavar="NAME", help="corpus name (letters, digits, . _ -)")
    p.add_argument("doc_id", metavar="DOC_ID", nargs="?", default=None,
                   help="document id, with --corpus (see `docpatch adapters list`)")
    p.add_argument("question", metavar="QUESTION", help="a question about the document; with --task alone, the "
                                                        "input the task applies to")
    p.add_argument("--task", default=None, metavar="NAME",
                   help="answer under this task adapter (`docpatch task`): alone, or with --corpus composed with the "
                        "document's adapter (ranks side by side, scaled by task_scale and doc_scale)")
    p.add_argument("--mode", choices=MODES, default="adapter",
                   help="how the document comes in: adapter: its adapter, no document in the prompt; context: the "
                        "document in the prompt; base: neither (default: adapter)")
    p.add_argument("--max-new-tokens", type=int, default=None,
                   help=f"answer length cap (default: {DOC_TOKENS}, {TASK_TOKENS} with --task)")
    add_settings_flags(p, names=("task_scale", "doc_scale", "compose_steps"))


COMMANDS = (Command("ask", "answer a question about a document (adapter, context or base), or under a task adapter",
                    ask, add_arguments),)
