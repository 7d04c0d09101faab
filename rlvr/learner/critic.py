"""PPO's critic: the policy's transformer backbone with a scalar value head, initialised from the same checkpoint."""
from __future__ import annotations

import torch
from torch import nn
from transformers import AutoModel


class ValueModel(nn.Module):
    def __init__(self, model_path: str, dtype: torch.dtype = torch.float32):
        super().__init__()
        self.backbone = AutoModel.from_pretrained(model_path, dtype=dtype)
        self.value_head = nn.Linear(self.backbone.config.hidden_size, 1, dtype=dtype)
        nn.init.zeros_(self.value_head.weight)  # start at V = 0: the first advantages are the plain returns
        nn.init.zeros_(self.value_head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """[B, L] value of each prefix (the state before the next token)."""
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        # A fresh tensor, not a view: FSDP2 warns that an in-place op on a view would skip its pre-backward hook.
        return self.value_head(hidden).squeeze(-1).float().clone()


class Critic:
    """The value model with its own AdamW, on the learner's device; sharded like the policy on several ranks (its
    gradients summed over ranks the same way)."""

    def __init__(self, model_path: str, device: torch.device, lr: float, master_dtype: torch.dtype,
                 compute_dtype: torch.dtype, sharded: bool):
        self.model = ValueModel(model_path, master_dtype).to(device)
        if sharded:
            from rlvr.learner import distributed

            distributed.shard(self.model, distributed.decoder_layers(self.model.backbone), compute_dtype,
                              master_dtype)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr)

    def values(self, pb) -> torch.Tensor:
        """[b, T] value before each response token (0 at padding) of a PaddedBatch."""
        return self.model(pb.input_ids, pb.attention_mask).gather(1, pb.positions) * pb.mask

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def step(self, grad_clip: float) -> None:
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), grad_clip)
        self.optimizer.step()

    def state_dict(self) -> dict:
        return {"critic": self.model.state_dict(), "critic_optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["critic"])
        self.optimizer.load_state_dict(state["critic_optimizer"])
