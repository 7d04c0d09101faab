"""rlvr.algorithms: every training objective as short pure functions plus one Objective class per config name.
The loop only uses build_objective, Needs, AdvantageInputs and LossInputs."""
from .base import OBJECTIVES, AdvantageInputs, LossInputs, Needs, Objective, build_objective
from . import objectives as _objectives  # noqa: F401  (registers every objective)
from .objectives import overlong_penalty

__all__ = ["OBJECTIVES", "AdvantageInputs", "LossInputs", "Needs", "Objective", "build_objective",
           "overlong_penalty"]
