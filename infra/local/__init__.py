"""The local stack for development and tests: stack.py (up, down, status) over config.py, procs.py,
s3.py, prefect_server.py and ray_nodes.py; cli.py is `python -m infra.local.stack`."""
