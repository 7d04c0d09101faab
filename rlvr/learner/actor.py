"""LearnerActor: the Learner behind a Ray actor, plus checkpoint save/load (the learner owns the optimizer).

With several ranks (rlvr.learner.group.LearnerGroup) every call reaches every rank: each is a collective."""
from __future__ import annotations

from pathlib import Path

from rlvr.algorithms import Objective
from rlvr.batch import TrainBatch
from rlvr.learner.learner import Learner, LearnerSettings
from rlvr.weight_sync import SendsWeights


class LearnerActor(SendsWeights):
    def __init__(self, model_path: str, objective: Objective, settings: LearnerSettings):
        self.learner = Learner(model_path, objective, settings)

    def score_rollouts(self, batch: TrainBatch, objective: Objective) -> dict:
        return self.learner.score_rollouts(batch, objective)

    def update(self, batch: TrainBatch, step: int, objective: Objective) -> dict[str, float]:
        return self.learner.update(batch, step, objective)

    def named_weights(self):
        return self.learner.named_weights()

    def load_weights(self, state) -> None:
        self.learner.load_weights(state)

    def score(self, sequences):
        return self.learner.score(sequences)

    def ping(self) -> int:
        return 0

    # ---------------------------------------------------------------- the learner's side of the weight sync
    def sends_weights(self) -> bool:
        """Only learner rank 0 sends; the other ranks help gather the full weights."""
        return not self.learner.dist.active or self.learner.dist.rank == 0

    def weights_on_device(self) -> dict:
        """The full HF state dict: the model's own tensors on one rank; gathered from the FSDP shards (a collective
        every rank joins, through the host) on several."""
        from rlvr.infra.hf_weights import with_lm_head

        if self.learner.dist.active:
            from rlvr.learner.distributed import full_state_dict

            return with_lm_head(full_state_dict(self.learner.scorer))
        return with_lm_head({k: v.detach() for k, v in self.learner.model.state_dict().items()})

    def save(self, run_dir: str, step: int, trainer_state: dict, keep_last: int) -> str:
        if self.learner.dist.active:  # several ranks: sharded model + AdamW, full HF weights from rank 0
            from rlvr.learner.sharded_checkpoint import save_sharded_checkpoint

            return str(save_sharded_checkpoint(self.learner, run_dir, step, trainer_state, keep_last))
        from rlvr.infra.checkpoint import save_checkpoint

        path = save_checkpoint(Path(run_dir), step, model=self.learner.model, tokenizer=self.learner.tokenizer,
                               optimizer=self.learner.optimizer, scheduler=None,
                               trainer_state=trainer_state, keep_last=keep_last,
                               extra_state=self.learner.training_state())
        return str(path)

    def load(self, path: str) -> dict:
        if self.learner.dist.active:
            from rlvr.learner.sharded_checkpoint import load_sharded_checkpoint

            return load_sharded_checkpoint(self.learner, path)
        from rlvr.infra.checkpoint import load_checkpoint

        trainer_state = load_checkpoint(Path(path), model=self.learner.model, optimizer=self.learner.optimizer)
        self.learner.load_training_state(trainer_state.pop("_extra_state"))
        return trainer_state
