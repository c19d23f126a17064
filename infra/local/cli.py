"""The stack's command line, `python -m infra.local.stack up|down|status|env`: progress and errors on
stderr, data on stdout; an error the user can fix prints one line and exits 2."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from infra.local.config import DEFAULT_STATE_DIR, ENV_FILE, StackConfig, StackError
from infra.local.stack import down, status, up


def _add_up_parser(subs, defaults: StackConfig, state_help: str) -> None:
    p_up = subs.add_parser("up", help="start the stack and write STATE/stack.env",
                           description="Start the stack; prints the env file to source when it is ready.")
    p_up.add_argument("--state-dir", default=defaults.state_dir, help=state_help)
    p_up.add_argument("--ray-workers", type=int, default=defaults.ray_workers,
                      help=f"Ray worker nodes besides the head (default: {defaults.ray_workers})")
    p_up.add_argument("--cpus-per-node", type=float, default=defaults.cpus_per_node,
                      help=f"logical CPUs per Ray node (default: {defaults.cpus_per_node:g})")
    p_up.add_argument("--gpus-per-worker", type=int, default=defaults.gpus_per_worker,
                      help="GPUs each worker node declares (default: 0). On a machine without GPUs a declared GPU "
                           "is only a resource: Ray places GPU actors by it and sets CUDA_VISIBLE_DEVICES, and "
                           "docpatch's actors fall back to the CPU")
    p_up.add_argument("--no-prefect", dest="prefect", action="store_false", help="do not start a Prefect server")
    p_up.add_argument("--prefect-ui", action="store_true", help="serve Prefect's web UI (slower start)")
    p_up.add_argument("--no-s3", dest="s3", action="store_false", help="do not start the S3 server")
    p_up.add_argument("--no-ray", dest="ray", action="store_false", help="do not start a Ray cluster")
    p_up.add_argument("--bucket", default=defaults.bucket, help=f"bucket to create (default: {defaults.bucket})")
    p_up.add_argument("--prefix", default=defaults.prefix, help=f"store prefix in the bucket (default: {defaults.prefix})")
    p_up.add_argument("--timeout", dest="timeout_s", type=float, default=defaults.timeout_s,
                      help=f"seconds to wait for each service (default: {defaults.timeout_s:g})")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local.stack",
        description="Start, inspect and stop the local docpatch stack: a Prefect server, a Ray cluster "
                    "(head + worker nodes) and an S3 server, all on 127.0.0.1.")
    subs = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    defaults = StackConfig()
    state_help = f"state folder: pid file, env file, logs (default: {DEFAULT_STATE_DIR})"
    _add_up_parser(subs, defaults, state_help)
    for name, help_ in (("down", "stop exactly the processes `up` started"),
                        ("status", "show the recorded processes and whether they run")):
        p = subs.add_parser(name, help=help_, description=help_)
        p.add_argument("--state-dir", default=defaults.state_dir, help=state_help)
        if name == "status":
            p.add_argument("--json", action="store_true", help="JSON on stdout")
    p_env = subs.add_parser("env", help="print the env file of the running stack",
                            description="Print the env file (eval-able: `eval \"$(python -m infra.local.stack env)\"`).")
    p_env.add_argument("--state-dir", default=defaults.state_dir, help=state_help)
    return parser


def _print_env(state_dir: str) -> None:
    path = Path(state_dir) / ENV_FILE
    if not path.exists():
        raise StackError(f"no env file at {path}; run `python -m infra.local.stack up` first")
    print(path.read_text(), end="")


def _print_status(state_dir: str, as_json: bool) -> int:
    """The status as a table or JSON; 0 when every recorded process runs, else 1."""
    info = status(state_dir)
    if as_json:
        print(json.dumps(info, indent=2))
    elif not info:
        print(f"no stack recorded in {Path(state_dir).resolve()}")
    else:
        for row in info["processes"]:
            print(f"{row['name']:<14} pid {row['pid']:<8} {'running' if row['running'] else 'STOPPED':<8} "
                  f"{row['address']}")
        print(f"env file: {info['env_file']}")
    return 0 if info and info["up"] else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    note = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731 - progress on stderr
    try:
        if args.command == "up":
            values = {k: v for k, v in vars(args).items() if k != "command"}
            up(StackConfig(**values), log=note)
        elif args.command == "down":
            down(args.state_dir, log=note)
        elif args.command == "env":
            _print_env(args.state_dir)
        else:
            return _print_status(args.state_dir, args.json)
    except StackError as exc:
        note(f"stack: error: {exc}")
        return 2
    except KeyboardInterrupt:
        note("stack: interrupted")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
