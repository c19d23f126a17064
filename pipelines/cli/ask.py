"""`docpatch ask`: one question about one document (pipelines.answering.ask)."""
from __future__ import annotations

import argparse

from pipelines.answering import MODES
from pipelines.settings import Settings

from pipelines.cli.options import Command, add_corpus
from pipelines.cli.output import emit


def ask(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.answering import ask as answer_question
    from pipelines.lookup import latest_snapshot

    latest_snapshot(settings, args.corpus)
    result = answer_question(settings, args.corpus, args.doc_id, args.question, args.mode, args.max_new_tokens)
    emit(args, result, text=result["answer"])
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_corpus(p)
    p.add_argument("doc_id", metavar="DOC_ID", help="document id (see `docpatch adapters list`)")
    p.add_argument("question", metavar="QUESTION")
    p.add_argument("--mode", choices=MODES, default="adapter",
                   help="adapter: the document's adapter, no document in the prompt; context: the document in "
                        "the prompt; base: neither (default: adapter)")
    p.add_argument("--max-new-tokens", type=int, default=24, help="answer length cap (default: 24)")


COMMANDS = (Command("ask", "answer a question about a document (adapter, context or base)", ask, add_arguments),)
