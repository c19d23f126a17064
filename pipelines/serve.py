"""Scheduled runs: the nightly re-patch of a corpus as a Prefect deployment with a cron schedule.

`docpatch serve --corpus kb --source /data/kb --cron "0 2 * * *"` builds the deployment below and
serves it in this process (`prefect.serve`): the process polls the Prefect API and runs the flow
at each scheduled time until it is stopped. With PREFECT_API_URL unset, Prefect runs a temporary
local server inside the process (schedules live as long as the process); set PREFECT_API_URL to a
`prefect server start` instance to see and trigger the runs in its UI. infra/prefect.yaml
describes the same deployment for `prefect deploy` with a work pool.

The deployment's parameters are the source, the corpus and the resolved settings (`record()`: no
credentials); storage credentials come from the serving process's environment at run time.
"""
from __future__ import annotations

import re

from pipelines.settings import Settings, SettingsError

DEFAULT_CRON = "0 2 * * *"
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*,/?#-]+$")


def check_cron_shape(cron: str) -> str:
    """A quick check that needs no Prefect: five fields of cron characters (check_cron does the rest)."""
    fields = cron.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise SettingsError(f"invalid cron expression {cron!r} (want five fields, e.g. {DEFAULT_CRON!r})")
    return cron


def check_cron(cron: str) -> str:
    """The cron expression, or a SettingsError that says why it is not one."""
    from prefect.schedules import validate_cron_string

    try:
        return validate_cron_string(cron)
    except ValueError:
        raise SettingsError(f"invalid cron expression {cron!r} (want five fields, e.g. {DEFAULT_CRON!r})") from None


def deployment_name(corpus: str) -> str:
    return f"nightly-{corpus}"


def nightly_deployment(source: str, corpus: str, settings: Settings, cron: str = DEFAULT_CRON,
                       name: str | None = None, timezone: str = "UTC"):
    """The nightly re-patch of one corpus as a deployment with a cron schedule (not yet served)."""
    from prefect.schedules import Cron

    from pipelines.flows import nightly_repatch

    return nightly_repatch.to_deployment(
        name=name or deployment_name(corpus),
        schedules=[Cron(check_cron(cron), timezone=timezone)],
        parameters={"source": source, "corpus": corpus, "settings": settings.record(), "progress": False},
        description=f"Ingest {source} into corpus {corpus!r}, patch new and changed documents, tombstone deleted ones.",
        tags=["docpatch", "nightly", corpus],
    )


def serve_nightly(source: str, corpus: str, settings: Settings, cron: str = DEFAULT_CRON,
                  name: str | None = None, timezone: str = "UTC") -> None:
    """Serve the nightly deployment in this process until interrupted."""
    from prefect import serve

    serve(nightly_deployment(source, corpus, settings, cron, name, timezone))
