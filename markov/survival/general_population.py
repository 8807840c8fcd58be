"""General-population mortality from national life tables shipped in ``params/life_tables``.

A life table gives qₓ, the probability that a person aged exactly x dies before x + 1,
by sex. The force of mortality is taken as constant within each year of age,
μₓ = −log(1 − qₓ), so that the table's qₓ are reproduced exactly. A cohort of
starting age A with a share f of women survives as the mixture

    S(t) = f·S_F(t) + (1 − f)·S_M(t),   S_s(t) = exp(−∫_A^{A+t} μ_s(⌊a⌋) da),

so the share of women rises over time as it does in the population. Beyond the last
age of the table the last row's force of mortality continues: −log(1 − qₓ) where the
last qₓ is a one-year probability, or 1/eₓ where the last row is an open-ended age
group (qₓ = 1) and the table gives its life expectancy eₓ (a constant rate with that
mean remaining lifetime).
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .._reading import read_text, read_yaml
from .._validate import InputError, as_float_array
from ._base import TIME_UNIT_YEARS, SurvivalCurve, check_time_unit

_TABLE_PACKAGE = "markov.data"
_TABLE_FOLDER = "life_tables"


def available_life_tables() -> list[str]:
    """Names of the shipped life tables (e.g. ``"us_2021"``)."""
    folder = resources.files(_TABLE_PACKAGE) / _TABLE_FOLDER
    return sorted(p.name[:-4] for p in folder.iterdir() if p.name.endswith(".csv"))


@dataclass(frozen=True)
class LifeTable:
    """Probabilities of death qₓ by single year of age x = 0, 1, …, for men and women.

    ``source`` holds the table's provenance (publisher, title, table, URL, period).
    """

    name: str
    qx_male: np.ndarray
    qx_female: np.ndarray
    source: dict

    def __post_init__(self) -> None:
        for sex in ("qx_male", "qx_female"):
            values = np.atleast_1d(as_float_array(getattr(self, sex), f"{self.name} {sex}", ndim=(1,)))
            bad = (values < 0) | (values > 1)
            if bad.any():
                age = int(np.argmax(bad))
                raise InputError(f"{self.name} {sex} [age {age}] is {float(values[age])!r}: a probability must lie in [0, 1]")
            if (values[:-1] >= 1).any():
                age = int(np.argmax(values[:-1] >= 1))
                raise InputError(f"{self.name} {sex} [age {age}] is 1 before the last age: nobody would survive past it")
            object.__setattr__(self, sex, values)
        if self.qx_male.size != self.qx_female.size:
            raise InputError(f"{self.name}: {self.qx_male.size} ages for men but {self.qx_female.size} for women")

    @classmethod
    def load(cls, name: str) -> LifeTable:
        """A shipped table by name; see :func:`available_life_tables`."""
        names = available_life_tables()
        if name not in names:
            raise InputError(f"life table {name!r}: not shipped; available tables are {', '.join(names)}")
        folder = Path(str(resources.files(_TABLE_PACKAGE) / _TABLE_FOLDER))
        frame = pd.read_csv(io.StringIO(read_text(folder / f"{name}.csv", "life table")))
        source = read_yaml(folder / f"{name}.yaml", "life table source")
        if list(frame["age"]) != list(range(len(frame))):
            raise InputError(f"life table {name!r}: ages must run 0, 1, 2, … without gaps")
        return cls(name, frame["qx_male"].to_numpy(float), frame["qx_female"].to_numpy(float), source)

    @property
    def ages(self) -> np.ndarray:
        return np.arange(self.qx_male.size)

    def force_of_mortality(self, sex: str) -> np.ndarray:
        """μₓ = −log(1 − qₓ) per year, by single year of age; for an open-ended last age
        group (qₓ = 1), 1/eₓ from the table's ``open_age_life_expectancy``."""
        qx = {"male": self.qx_male, "female": self.qx_female}[sex]
        with np.errstate(divide="ignore"):
            mu = -np.log1p(-qx)
        if not np.isfinite(mu[-1]):
            expectancy = (self.source.get("open_age_life_expectancy") or {}).get(sex)
            if expectancy is None:
                raise InputError(
                    f"life table {self.name!r}: the last age has qx = 1 (an open age group) but the source gives "
                    "no open_age_life_expectancy to turn into a rate"
                )
            mu[-1] = 1.0 / float(expectancy)
        return mu


class GeneralPopulationSurvival(SurvivalCurve):
    """Survival of a general-population cohort of a given starting age and sex mix.

    Parameters
    ----------
    table : LifeTable or str
        A :class:`LifeTable` or the name of a shipped one.
    start_age : float or array (n_samples,)
        Age in years at model start (fractional ages allowed).
    share_female : float or array (n_samples,)
        Share of women at model start, in [0, 1].
    time_unit : str
        Unit of the times this curve is evaluated at (default years).
    """

    def __init__(self, table: LifeTable | str, start_age, share_female, *, time_unit: str = "years") -> None:
        self.table = LifeTable.load(table) if isinstance(table, str) else table
        self.time_unit = check_time_unit(time_unit)
        age = np.atleast_1d(as_float_array(start_age, "start_age", ndim=(0, 1)))
        female = np.atleast_1d(as_float_array(share_female, "share_female", ndim=(0, 1)))
        if ((age < 0) | (age > self.table.ages[-1])).any():
            bad = age[(age < 0) | (age > self.table.ages[-1])][0]
            raise InputError(f"start_age is {float(bad)!r}: must lie within the life table's ages 0–{self.table.ages[-1]}")
        if ((female < 0) | (female > 1)).any():
            bad = female[(female < 0) | (female > 1)][0]
            raise InputError(f"share_female is {float(bad)!r}: must lie in [0, 1]")
        try:
            age, female = np.broadcast_arrays(age, female)
        except ValueError:
            raise InputError(f"start_age has {age.size} samples but share_female has {female.size}") from None
        self.start_age, self.share_female = age.copy(), female.copy()
        self.n_samples = age.size
        self._mu = {sex: self.table.force_of_mortality(sex) for sex in ("male", "female")}
        self._cumulative_at_age = {sex: np.concatenate([[0.0], np.cumsum(mu)]) for sex, mu in self._mu.items()}

    def _ages(self, t):
        return self.start_age[:, None] + t * TIME_UNIT_YEARS[self.time_unit]

    def _from_birth(self, age: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per sex, the cumulative hazard from birth to ``age`` and the force of mortality at
        ``age`` (the year of age looked up once for both sexes)."""
        whole = np.minimum(np.floor(age), self.table.ages[-1]).astype(np.intp)
        within = age - whole
        out = {}
        for sex, mu in self._mu.items():
            rate = mu[whole]
            out[sex] = (self._cumulative_at_age[sex][whole] + rate * within, rate)
        return out

    def _by_sex(self, t):
        """(cumulative hazard since the start age, force of mortality) per sex, per year."""
        to_age, at_start = self._from_birth(self._ages(t)), self._from_birth(self.start_age[:, None])
        return {sex: (hazard - at_start[sex][0], rate) for sex, (hazard, rate) in to_age.items()}

    def _mixture(self, t, with_rate: bool = True):
        """Survival and (with ``with_rate``, else None) the hazard of the cohort."""
        parts = self._by_sex(t)
        f = self.share_female[:, None]
        s_female, s_male = np.exp(-parts["female"][0]), np.exp(-parts["male"][0])
        survival = f * s_female + (1.0 - f) * s_male
        if not with_rate:
            return survival, None
        rate = (f * s_female * parts["female"][1] + (1.0 - f) * s_male * parts["male"][1]) / survival
        return survival, rate * TIME_UNIT_YEARS[self.time_unit]

    def _cumulative_hazard(self, t):
        return -np.log(self._mixture(t, with_rate=False)[0])

    def _log_hazard(self, t):
        return np.log(self._mixture(t)[1])

    def _survival(self, t):
        return self._broadcast(self._mixture(t, with_rate=False)[0])

    def _breakpoints(self):
        """Birthdays, where the force of mortality steps (for a common start age)."""
        if np.unique(self.start_age).size > 1:
            return np.empty(0)
        age = self.start_age[0]
        years = np.arange(np.floor(age) + 1, self.table.ages[-1] + 1) - age
        return years / TIME_UNIT_YEARS[self.time_unit]
