"""How docpatch starts: the local stack (infra/local), Prefect deployments, Kubernetes manifests."""
