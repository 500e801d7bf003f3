"""The public surface is explicit (as httpx tests it)."""

from __future__ import annotations

import index
import qa


def test_all_is_sorted_and_importable() -> None:
    for module in (qa, index):
        assert module.__all__ == sorted(module.__all__, key=str)
        for name in module.__all__:
            assert getattr(module, name) is not None
