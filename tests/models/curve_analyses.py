"""Analyses of the shipped HCC files with test curves and test evidence, for the tests of
curve kinds (test_curves.py) and of curves fitted to patient data (test_fitted_curves.py)."""
import dataclasses
import math
from pathlib import Path

import yaml

MONTH = 1 / 12
#: Test evidence: the numbers of every curve below (units decide what each may be used for).
VALUES = {
    "gamma0": (-2.5, "coefficient"), "gamma1": (1.3, "coefficient"), "gamma2": (0.02, "coefficient"),
    "knot0": (0.0, "coefficient"), "knot1": (math.log(6), "coefficient"), "knot2": (math.log(24), "coefficient"),
    "cut_6_months": (6.0, "months"), "cut_2_years": (2.0, "years"), "one_year": (1.0, "years"),
    "rate_first": (0.9, "rate_per_year"), "rate_second": (0.05, "coefficient"), "rate_third": (0.02, "coefficient"),
    "shape": (1.4, "ratio"), "scale": (9.0, "months"), "cure": (0.25, "proportion"),
    "hr": (0.6, "hazard_ratio"), "hr_late": (0.85, "hazard_ratio"), "hr_end": (1.1, "hazard_ratio"),
    "start": (12.0, "months"), "end": (3.0, "years"), "age": (62.0, "age_years"), "female": (0.3, "proportion"),
}
#: The curves added to the imbrave150 population, by kind.
CURVES = {
    "spline": {"kind": "spline", "gamma": ["t.gamma0", "t.gamma1", "t.gamma2"],
               "knots": ["t.knot0", "t.knot1", "t.knot2"], "scale": "odds", "time_unit": "months"},
    "piecewise": {"kind": "piecewise_exponential", "cut_points": ["t.cut_6_months", "t.cut_2_years"],
                  "rates": ["t.rate_first", "t.rate_second", "t.rate_third"], "time_unit": "months"},
    "llogis": {"family": "llogis", "time_unit": "months", "parameters": {"shape": "t.shape", "scale": "t.scale"}},
    "cured": {"kind": "mixture_cure", "cure_fraction": "t.cure", "uncured": "llogis"},
    "waning": {"kind": "waning_hazard_ratio", "reference": "llogis", "hazard_ratio": "t.hr", "start": "t.start",
               "end": "t.end"},
    "waning_step": {"kind": "waning_hazard_ratio", "reference": "llogis", "hazard_ratio": "t.hr",
                    "start": "t.start", "profile": "step"},
    "periods": {"kind": "piecewise_hazard_ratio", "reference": "llogis",
                "periods": [{"hazard_ratio": "t.hr", "until": "t.cut_6_months"},
                            {"hazard_ratio": "t.hr_late", "until": "t.cut_2_years"}, {"hazard_ratio": "t.hr_end"}]},
    "treated": {"reference": "llogis", "hazard_ratio": "t.hr"},
    "floored": {"kind": "general_population_floor", "reference": "treated"},
    "relative_to_floored": {"reference": "floored", "hazard_ratio": "t.hr"},
}


def write_evidence(directory: Path, values: dict) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    content = {"source": {"citation": "test values", "url": "https://example.org/test", "kind": "trial"},
               "values": {name: {"value": v, "unit": unit, "status": "verified", "where": "test", **extra}
                          for name, (v, unit, *rest) in values.items() for extra in [rest[0] if rest else {}]}}
    (directory / "t.yaml").write_text(yaml.safe_dump(content))


def analysis(directory: Path, curves: dict, values: dict | None = None, name: str = "curves") -> Path:
    """An analysis of the shipped HCC files with ``curves`` added to imbrave150 (start age
    62, 30% women) and test evidence ``values`` (VALUES by default)."""
    write_evidence(directory / "ev", VALUES if values is None else values)
    overrides = {"populations": {"imbrave150": {"curves": curves, "start_age": "t.age", "share_female": "t.female"}}}
    path = directory / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "populations": ["imbrave150"], "evidence_directories": ["ev"],
                                    "overrides": overrides}))
    return path


def drawn_as_if_followed(inputs):
    """``inputs`` with every input drawn in a probabilistic analysis: the test curves are
    followed by no strategy, so their inputs are unused (held at their estimates, never
    uncertain) until a strategy follows them; the tests of curve kinds draw them anyway."""
    return dataclasses.replace(inputs, unused=frozenset())
