"""Distributed adapter generation on Ray: stages, the batch pipeline, starting or joining Ray."""
