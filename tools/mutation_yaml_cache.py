"""pytest plugin of mutation runs (tools/mutation.py): each YAML text is parsed once.

The model-level tests load the shipped model and evidence files (some fifty YAML files) for
every analysis they build, and parsing them is most of their time; mutmut runs those tests
once per mutant, in processes forked from one that has run them already. Parsing is pure, so
the parse of a text is kept and each caller gets a copy of it: what a test sees is the same,
only sooner. Enabled by ``-p tools.mutation_yaml_cache`` in ``[tool.mutmut]`` of
pyproject.toml, and nowhere else.
"""
from __future__ import annotations

import copy
import functools

import yaml

_safe_load = yaml.safe_load


@functools.cache
def _parsed(text: str):
    return _safe_load(text)


def _cached_safe_load(stream):
    if isinstance(stream, str):
        return copy.deepcopy(_parsed(stream))
    return _safe_load(stream)


yaml.safe_load = _cached_safe_load
