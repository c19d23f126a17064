"""Scheduled runs: the nightly re-patch of a corpus as a Prefect deployment with a cron schedule,
and the patch of the same corpus as a deployment that runs when triggered.

`docpatch serve --corpus kb --source /data/kb --cron "0 2 * * *"` builds the two deployments below
and serves them in this process (`prefect.serve`): the process polls the Prefect API and runs the
nightly flow at each scheduled time, and the patch whenever someone triggers it, until stopped:

    docpatch-nightly/nightly-kb     cron; ingest the source, patch new and changed documents, tombstone
    docpatch-patch/patch-kb         no schedule; an adapter for every document lacking a current one
                                    (after a new hypernetwork): `prefect deployment run
                                    docpatch-patch/patch-kb`, or `trigger_patch("kb")` from a flow

With PREFECT_API_URL unset, Prefect runs a temporary local server inside the process (schedules live
as long as the process); set PREFECT_API_URL to a `prefect server start` instance to see and trigger
the runs in its UI. infra/prefect.yaml describes the same deployments for `prefect deploy` with a
work pool.

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


NIGHTLY_FLOW = "docpatch-nightly"  # the flow names (pipelines/flows.py)
PATCH_FLOW = "docpatch-patch"


def deployment_name(corpus: str) -> str:
    return f"nightly-{corpus}"


def patch_deployment_name(corpus: str) -> str:
    return f"patch-{corpus}"


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


def patch_deployment(corpus: str, settings: Settings, name: str | None = None):
    """The patch of one corpus as a deployment without a schedule (runs when triggered)."""
    from pipelines.flows import patch_flow

    return patch_flow.to_deployment(
        name=name or patch_deployment_name(corpus),
        parameters={"corpus": corpus, "settings": settings.record(), "progress": False},
        description=f"Give every document of corpus {corpus!r} a current adapter (after a new hypernetwork); "
                    "full=true regenerates all.",
        tags=["docpatch", "patch", corpus],
    )


def serve_nightly(source: str, corpus: str, settings: Settings, cron: str = DEFAULT_CRON,
                  name: str | None = None, timezone: str = "UTC", patch: bool = True) -> None:
    """Serve the nightly deployment (and the corpus's patch deployment) in this process until interrupted."""
    from prefect import serve

    deployments = [nightly_deployment(source, corpus, settings, cron, name, timezone)]
    if patch:
        deployments.append(patch_deployment(corpus, settings))
    serve(*deployments)


def trigger_patch(corpus: str, *, full: bool = False, timeout: float | None = 0,
                  deployment: str | None = None, **setting_changes):
    """Start a run of the corpus's patch deployment (from a flow, e.g. after meta-training); its FlowRun.

    `setting_changes` (e.g. hypernet_path=NEW_CHECKPOINT) are applied to the settings the deployment
    was served with. timeout=0 returns at once; None waits for the run to finish.
    """
    from prefect.deployments import run_deployment

    name = deployment or f"{PATCH_FLOW}/{patch_deployment_name(corpus)}"
    parameters: dict = {"full": full}
    if setting_changes:
        served = _deployment_parameters(name).get("settings") or {}
        parameters["settings"] = Settings(**served).with_overrides(**setting_changes).record()
    return run_deployment(name, parameters=parameters, timeout=timeout)


def _deployment_parameters(name: str) -> dict:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return dict(client.read_deployment_by_name(name).parameters or {})
