"""The contract between the training loop and the objectives: what an objective needs, what it is given, and the
registry that maps a config name (`algorithm.name`) to its Objective class."""
from __future__ import annotations

import dataclasses

from dataclasses import dataclass
from typing import Any, ClassVar

from torch import Tensor


@dataclass(frozen=True)
class Needs:
    """What the loop must provide; the loop never branches on the objective's name, only on these fields."""
    data: str = "verified_rollouts"      # "verified_rollouts" | "rollouts" (OSFT) | "demonstrations" (sft/dft/asft)
    reference_model: bool = False
    critic: bool = False
    full_logits: bool = False
    train_temperature: float | None = None  # None = the rollout temperature (verl); OSFT sets 1.0
    samples_per_prompt: int | None = None   # None = the config's G
    filter_groups: bool = False             # the loop drops groups whose rewards are all equal
    binary_labels: bool = False             # the loss needs a positive/negative label (refuses continuous rewards)
    minibatch_statistic: bool = False       # a no-grad pass over each mini-batch first (begin_minibatch; SIREN)


@dataclass
class AdvantageInputs:
    """The whole rollout batch, once per step, without grad."""
    rewards: Tensor
    positive: Tensor | None  # the trained reward's binary label (not the true verdict); None for continuous rewards
    group_ids: Tensor
    mask: Tensor
    response_lengths: Tensor
    truncated: Tensor
    old_logprobs: Tensor | None = None
    ref_logprobs: Tensor | None = None
    values: Tensor | None = None


@dataclass
class LossInputs:
    """One micro-batch. Denominators are the whole mini-batch's so that summed micro-batch grads are exact."""
    logprobs: Tensor
    mask: Tensor
    global_tokens: float
    global_seqs: float
    old_logprobs: Tensor | None = None
    advantages: Tensor | None = None
    ref_logprobs: Tensor | None = None
    logits: Tensor | None = None
    ref_logits: Tensor | None = None
    values: Tensor | None = None
    old_values: Tensor | None = None
    returns: Tensor | None = None
    positive: Tensor | None = None        # the trained reward's binary label
    is_weights: Tensor | None = None      # truncated importance weights pi_learner/pi_sampler [B,T] (None: all 1)
    group_accuracy: Tensor | None = None  # each sample's group's positive rate (NFT's r-hat)


# Keys the loop itself reads from the algorithm node; every objective accepts them.
LOOP_KEYS: dict[str, Any] = {"rollout_temperature": None}


class Objective:
    """Base class. Subclasses set `name`, `defaults` (every config field with its default) and implement the hooks.

    Config fields become attributes (self.clip_ratio_low, ...); unknown fields are an error naming algorithm.<key>.
    """
    name: ClassVar[str] = ""
    defaults: ClassVar[dict[str, Any]] = {}
    # Whether the loss multiplies by the truncated importance weights pi_learner / pi_sampler (LossInputs.is_weights)
    # that correct off-policy rollouts (trainer.async_steps, an engine's numerics); the loop computes them only then.
    importance_weighted: ClassVar[bool] = False

    def __init__(self, **cfg: Any):
        known = {**LOOP_KEYS, **self.defaults}
        unknown = sorted(set(cfg) - set(known))
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join('algorithm.' + k for k in unknown)} for algorithm "
                             f"'{self.name}'; known keys: {', '.join(sorted(known))}")
        for key, value in {**known, **cfg}.items():
            setattr(self, key, value)
        self.validate()

    def validate(self) -> None:
        """Check field values; raise ValueError naming algorithm.<key>."""

    @property
    def needs(self) -> Needs:
        return Needs()

    @property
    def inert_at_zero_advantage(self) -> bool:
        """Whether a row whose advantages are all exactly 0 adds exactly nothing to the loss and its gradient (the
        loss is advantage x f(log-probs) and nothing else), so the learner may leave it out of the forward and
        backward (learner.skip_zero_advantage) and take the same optimizer step. False unless an objective says so."""
        return False

    def compute_advantages(self, inp: AdvantageInputs) -> tuple[Tensor | None, Tensor | None]:
        return None, None

    def loss(self, inp: LossInputs) -> tuple[Tensor, dict[str, float]]:
        raise NotImplementedError

    def critic_loss(self, inp: LossInputs) -> tuple[Tensor, dict[str, float]]:
        raise NotImplementedError(f"algorithm '{self.name}' has no critic")

    def on_rollout(self, inp: LossInputs) -> None:
        """The whole scored rollout batch (log-probs, values; no logits), once per step before the advantages."""

    def wants_rollout_statistic(self) -> bool:
        """Whether the learner's scoring pass should measure statistic_part over the rollout batch this step (a
        no-grad pass over each micro-batch's logits, summed over micro-batches and ranks: on_rollout_statistic)."""
        return False

    def on_rollout_statistic(self, total: float, count: int) -> None:
        """The rollout batch's (sum, count) of statistic_part, when wants_rollout_statistic() said so."""

    def statistic_part(self, logits: Tensor, mask: Tensor) -> tuple[float, int]:
        """(sum, count) of a mini-batch statistic over one micro-batch (Needs.minibatch_statistic)."""
        raise NotImplementedError(f"algorithm '{self.name}' has no mini-batch statistic")

    def begin_minibatch(self, total: float | None, count: int) -> None:
        """The whole mini-batch's statistic, before its micro-batches' losses (None: leave the per-micro-batch
        fallback on)."""

    def state_dict(self) -> dict:
        return {}

    def load_state_dict(self, d: dict) -> None:
        pass


OBJECTIVES: dict[str, type[Objective]] = {}


def register(cls: type[Objective]) -> type[Objective]:
    if cls.name in OBJECTIVES:
        raise ValueError(f"objective name '{cls.name}' registered twice")
    OBJECTIVES[cls.name] = cls
    return cls


def config_schema(cls: type[Objective]) -> type:
    """The objective's config node as a dataclass, field by field from its `defaults` (and the loop's keys), typed
    by each default's type: registered as `algorithm/<name>_schema` in Hydra's ConfigStore, it makes composition
    reject a misspelled `algorithm.<key>` or a wrong type, naming the key, before anything starts."""
    fields: list[tuple[str, Any, Any]] = [("name", str, dataclasses.field(default=cls.name))]
    for key, default in {**LOOP_KEYS, **cls.defaults}.items():
        kind = type(default) if type(default) in (bool, int, float, str) else Any
        if isinstance(default, (list, dict)):
            fields.append((key, Any, dataclasses.field(default_factory=lambda d=default: type(d)(d))))
        else:
            fields.append((key, kind, dataclasses.field(default=default)))
    return dataclasses.make_dataclass(f"{cls.__name__}Config", fields)


def build_objective(name: str, **cfg: Any) -> Objective:
    """The objective for `algorithm.name`, configured by the other fields of conf/algorithm/NAME.yaml."""
    if name not in OBJECTIVES:
        raise ValueError(f"unknown algorithm.name '{name}'; known: {', '.join(sorted(OBJECTIVES))}")
    return OBJECTIVES[name](**cfg)


def require(value: Tensor | None, field: str, who: str) -> Tensor:
    """A LossInputs/AdvantageInputs field an objective cannot work without."""
    if value is None:
        raise ValueError(f"algorithm '{who}' needs {field}, but the loop passed None (check the objective's needs)")
    return value
