"""LearnerActor: the Learner behind a Ray actor, plus checkpoint save/load (the learner owns the optimizer).

With several ranks (rlvr.learner.group.LearnerGroup) every call reaches every rank: each is a collective."""
from __future__ import annotations

from pathlib import Path

from rlvr.algorithms import Objective
from rlvr.batch import TrainBatch
from rlvr.learner.learner import Learner, LearnerSettings


class LearnerActor:
    def __init__(self, model_path: str, objective: Objective, settings: LearnerSettings):
        self.learner = Learner(model_path, objective, settings)
        self._shared_buckets = None  # IpcSync: the packed weights the engines copy from (kept between pushes on CPU)

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

    # ---------------------------------------------------------- rank 0 of the collective weight sync (CollectiveSync)
    def weight_group_address(self) -> tuple[str, int]:
        from rlvr.infra.weight_sync import free_address

        return free_address()

    def _sends_weights(self) -> bool:
        """Only learner rank 0 is in the broadcast group; the other ranks help gather the full weights."""
        return not self.learner.dist.active or self.learner.dist.rank == 0

    def join_weight_group(self, host: str, port: int, rank: int, world_size: int, backend: str) -> None:
        from rlvr.infra.weight_sync import join_group

        if self._sends_weights():
            self.weight_group = join_group(host, port, rank, world_size, backend)

    def _weights_on_device(self) -> dict:
        """The full HF state dict: the model's own tensors on one rank; gathered from the FSDP shards (a collective
        every rank joins, through the host) on several."""
        from rlvr.infra.hf_weights import with_lm_head

        if self.learner.dist.active:
            from rlvr.learner.distributed import full_state_dict

            return with_lm_head(full_state_dict(self.learner.scorer))
        return with_lm_head({k: v.detach() for k, v in self.learner.model.state_dict().items()})

    def weight_meta(self, dtype: str) -> list:
        from rlvr.infra.weight_sync import tensor_meta

        return tensor_meta(self._weights_on_device(), dtype)

    def broadcast_weights(self, dtype: str, bucket_bytes: int) -> None:
        from rlvr.infra.weight_sync import send_state, tensor_meta

        state = self._weights_on_device()
        if self._sends_weights():
            send_state(self.weight_group, state, tensor_meta(state, dtype), bucket_bytes)

    # ------------------------------------------------------------------------- the learner's side of IpcSync
    def placement(self):
        from rlvr.infra.weight_sync import placement

        return placement()

    def share_weights(self, dtype: str, bucket_bytes: int):
        """Handles to this rank's weights packed in `dtype` (rank 0's; the others only join the gather). The
        buckets stay alive until release_shared_weights."""
        from rlvr.infra.weight_sync import share_state, tensor_meta

        state = self._weights_on_device()
        if not self._sends_weights():
            return None
        self._shared_buckets, shared = share_state(state, tensor_meta(state, dtype), bucket_bytes,
                                                   reuse=self._shared_buckets)
        return shared

    def release_shared_weights(self) -> None:
        """GPU buckets are freed (the memory is the learner's, or a colocated engine's, next phase); CPU ones are kept
        for the next push to refill."""
        from rlvr.infra.weight_sync import kept_after_push

        self._shared_buckets = kept_after_push(self._shared_buckets)

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
