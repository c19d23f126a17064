"""The local stack for development and tests: see stack.py."""
