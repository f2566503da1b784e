"""The two parameter tables of the book: ``fast`` and ``full``.

``fast`` is the default: every chapter executes in a few minutes on 2 CPU cores
(tests, CI and the book build use it).  ``full`` is the paper's grids, meant for a
GPU or a cluster; its runs write the JSON files under ``results/``.

Select one with the environment variable ``OWNLATENTS_PRESET`` (``fast`` or
``full``) or by passing ``name=`` explicitly::

    from ownlatents.presets import get_preset
    cfg = get_preset("ilc")            # fast unless OWNLATENTS_PRESET=full
    cfg = get_preset("ilc", "full")

Each chapter owns one section of the table (a plain dict of parameters).
"""

from __future__ import annotations

import copy
import os

PRESET_ENV = "OWNLATENTS_PRESET"
PRESET_NAMES = ("fast", "full")

PRESETS: dict[str, dict[str, dict]] = {
    "fast": {
        # Chapter 1: the Random Hierarchy Model.
        "rhm": {
            "example": dict(v=4, m=2, s=2, L=3, seed=1),
            "check": dict(v=8, m=3, s=2, L=4, seed=0, P=200_000),
        },
    },
    "full": {
        "rhm": {
            "example": dict(v=4, m=2, s=2, L=3, seed=1),
            "check": dict(v=16, m=4, s=2, L=4, seed=0, P=2_000_000),
        },
    },
}


def preset_name(name: str | None = None) -> str:
    """The preset in force: ``name`` if given, else ``$OWNLATENTS_PRESET``, else ``"fast"``."""
    chosen = name if name is not None else os.environ.get(PRESET_ENV, "fast")
    chosen = chosen.strip().lower()
    if chosen not in PRESET_NAMES:
        raise ValueError(
            f"preset must be one of {PRESET_NAMES} (argument or ${PRESET_ENV}), got {chosen!r}"
        )
    return chosen


def get_preset(section: str, name: str | None = None) -> dict:
    """A deep copy of one section (e.g. ``"ilc"``) of the chosen preset."""
    table = PRESETS[preset_name(name)]
    if section not in table:
        raise ValueError(f"section must be one of {sorted(table)}, got {section!r}")
    return copy.deepcopy(table[section])
