"""`docpatch serve`: the nightly flow on a cron schedule and the patch on demand (pipelines.serve)."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from pipelines.settings import COMMON, INGEST, WORKERS, Settings

from pipelines.cli.options import Command, add_corpus, check_source
from pipelines.cli.output import note


def serve(args: argparse.Namespace, settings: Settings) -> int:
    from pipelines.lookup import check_corpus_name
    from pipelines.serve import (NIGHTLY_FLOW, PATCH_FLOW, check_cron, check_cron_shape, deployment_name,
                                 patch_deployment_name, serve_nightly)

    check_corpus_name(args.corpus)
    check_source(args.source)
    check_cron_shape(args.cron)
    check_cron(args.cron)
    # The deployment's parameter: the same folder wherever a run starts.
    source = args.source if "://" in args.source else str(Path(args.source).resolve())
    api = os.environ.get("PREFECT_API_URL") or "a temporary Prefect API inside this process (set PREFECT_API_URL)"
    note(f"serving {NIGHTLY_FLOW}/{args.name or deployment_name(args.corpus)}: nightly re-patch of {source} "
         f"on '{args.cron}' ({args.timezone})")
    if args.patch:
        name = f"{PATCH_FLOW}/{patch_deployment_name(args.corpus)}"
        note(f"serving {name}: patch on demand (`prefect deployment run {name}`)")
    note(f"Prefect API: {api}; store: {settings.store}; Ray: {settings.ray_address or 'local'}; Ctrl-C stops")
    serve_nightly(source, args.corpus, settings, args.cron, args.name, args.timezone, patch=args.patch)
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    from pipelines.serve import DEFAULT_CRON

    add_corpus(p)
    p.add_argument("--source", required=True, metavar="SOURCE", help="what the nightly run ingests")
    p.add_argument("--cron", default=DEFAULT_CRON, help=f"schedule (default: {DEFAULT_CRON!r}, 02:00 every day)")
    p.add_argument("--timezone", default="UTC", help="time zone of the schedule (default: UTC)")
    p.add_argument("--name", default=None, help="deployment name (default: nightly-CORPUS)")
    p.add_argument("--no-patch", dest="patch", action="store_false",
                   help="do not also serve the corpus's patch deployment (patch-CORPUS, run on demand)")


COMMANDS = (Command("serve", "serve the nightly flow on a cron schedule and the patch on demand (Prefect "
                    "deployments)", serve, add_arguments, groups=(COMMON, WORKERS, INGEST)),)
