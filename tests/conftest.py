"""Shared set-up: the repository is importable as ansible_collections.progressive.delivery."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))

import harness  # noqa: E402

harness.ensure_collection_path()
