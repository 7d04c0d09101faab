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
