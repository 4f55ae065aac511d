"""The history window: `--since 30d`."""

from __future__ import annotations

import re
from datetime import timedelta

UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str) -> timedelta:
    """'30d', '12h' or '2w' as a duration; ValueError names what is wrong."""
    match = re.fullmatch(r"\s*(\d+)\s*([hdw])\s*", text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"--since {text!r}: give a positive number of hours, days or weeks, e.g. 30d, 12h, 2w")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})
