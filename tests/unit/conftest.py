"""Shared fixtures for unit tests: the operator's example configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLE_CONFIG = Path(__file__).resolve().parents[1] / "fixtures" / "community.example.yaml"


@pytest.fixture
def example_text() -> str:
    """The text of ``community.example.yaml`` as operators receive it."""
    return EXAMPLE_CONFIG.read_text(encoding="utf-8")
