"""The masked-token baseline (MLM) the paper only quotes: the same encoder as data2vec
(:class:`ownlatents.data2vec.Encoder`), the same masking, but cross-entropy on the masked
*tokens* instead of regression on the teacher's latents.

Train and probe it with the data2vec machinery (``d2v_point(..., objective="mlm")``), so
both objectives see the same grammars, strings, masks and probe protocol.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .data2vec import EncoderConfig, Encoder
from .rhm import mask_id

__all__ = ["MaskedLM"]


class MaskedLM(nn.Module):
    """Encoder + linear head to the ``v`` symbols; cross-entropy at masked positions only.

    ``forward(ids, mask)`` returns ``loss`` (mean over masked positions) and ``target_var``,
    ``pred_var`` (variance of the final features / logits over masked positions, for the same
    collapse monitor as data2vec) and ``accuracy`` of the masked-token prediction.
    """

    def __init__(self, cfg: EncoderConfig, *, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        gen = torch.Generator().manual_seed(int(seed))
        self.student = Encoder(cfg)
        self.student.init_weights(gen)
        self.head = nn.Linear(cfg.d_model, cfg.v)
        with torch.no_grad():
            self.head.weight.copy_(torch.randn(self.head.weight.shape, generator=gen) * 0.02)
            self.head.bias.zero_()

    @property
    def encoder(self) -> Encoder:
        return self.student

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> dict:
        final, _ = self.student(ids.masked_fill(mask, mask_id(self.cfg.v)))
        feats = final[mask]
        logits = self.head(feats)
        target = ids[mask]
        loss = F.cross_entropy(logits, target)
        return {"loss": loss, "target_var": feats.var(0).mean().detach(), "pred_var": logits.var(0).mean().detach(),
                "accuracy": (logits.argmax(1) == target).float().mean().detach()}
