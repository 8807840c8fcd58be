"""Merging changes into settings and model files: the one rule overrides, scenarios and
in-memory changes follow."""
from __future__ import annotations

import copy

from .._validate import InputError


def deep_merge(base, changes):
    """``base`` with ``changes`` merged in: mappings merge key by key, and a key changed to
    ``None`` (YAML ``null``) is removed (its default applies; a whole strategy can be
    dropped); a mapping with whole-number keys changes those items of a list (the item at
    the list's length is appended: ``lines: {2: {...}}`` adds a third line); anything
    else replaces."""
    if isinstance(base, list) and isinstance(changes, dict) and changes and all(
            isinstance(key, int) and not isinstance(key, bool) for key in changes):
        merged = copy.deepcopy(base)
        for index in sorted(changes):
            if not 0 <= index <= len(merged):
                raise InputError(f"item {index}: a list of {len(merged)} items can be changed at 0 to "
                                 f"{len(merged) - 1} or extended at {len(merged)}")
            if index == len(merged):
                merged.append(copy.deepcopy(changes[index]))
            else:
                merged[index] = deep_merge(merged[index], changes[index])
        return merged
    if not (isinstance(base, dict) and isinstance(changes, dict)):
        return copy.deepcopy(changes)
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = deep_merge(merged[key], value) if key in merged else copy.deepcopy(value)
    return merged
