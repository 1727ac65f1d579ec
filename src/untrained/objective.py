"""The objective: a weighted sum of named loss terms with a per-term breakdown.

Each :class:`Term` reads one layer of the network (or the image itself, ``layer=None``) and has
a user weight.  :meth:`Objective.normalize` implements He et al. 2016 §3's automatic weighting:
each term is scaled by the reciprocal of the mean absolute gradient it sends to the input
pixels, measured once on a probe image before optimising, so no layer swamps the others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .errors import UserError
from .nets.build import FeatureNet


@dataclass
class Term:
    """One named loss term: ``weight · scale · loss(layer activation or image)``.

    ``scale`` is the automatic factor set by :meth:`Objective.normalize` (1 until then);
    ``auto=False`` exempts the term from it (its scale stays 1).
    """

    name: str
    layer: str | None
    loss: nn.Module
    weight: float = 1.0
    scale: float = 1.0
    auto: bool = True


class Objective(nn.Module):
    """Weighted sum of :class:`Term` s over one forward pass of a :class:`FeatureNet`."""

    def __init__(self, net: FeatureNet, terms: list[Term]):
        super().__init__()
        self.net = net
        self.terms = terms
        self._losses = nn.ModuleList(t.loss for t in terms)  # registers buffers (targets)
        order = getattr(net, "layer_key", net.spec.index)  # a NetStack orders its draws' layers itself
        self.layers = sorted({t.layer for t in terms if t.layer is not None}, key=order)

    def breakdown(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        """Unweighted value of every term for *image*."""
        feats = self.net(image, self.layers)
        return {t.name: t.loss(image if t.layer is None else feats[t.layer]) for t in self.terms}

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """``(total, {name: weighted term})`` for *image*."""
        raw = self.breakdown(image)
        weighted = {t.name: raw[t.name] * (t.weight * t.scale) for t in self.terms}
        return sum(weighted.values()), weighted  # type: ignore[return-value]

    def resample(self, generator: torch.Generator) -> None:
        """Redraw the random parts of stochastic terms (the sliced Wasserstein directions);
        called by the loop at the start of every optimiser step."""
        for t in self.terms:
            if hasattr(t.loss, "resample"):
                t.loss.resample(generator)

    @torch.enable_grad()
    def normalize(self, probe: torch.Tensor) -> dict[str, float]:
        """Set each term's ``scale`` to ``1 / mean|∂term/∂pixels|`` at *probe* (He et al. 2016 §3).

        Returns the scales by term name.  A term whose gradient at the probe is zero or not
        finite cannot be weighted and would silently do nothing: a :class:`UserError` names it.
        A term with ``auto=False`` keeps scale 1.
        """
        probe = probe.detach().clone().requires_grad_(True)
        raw = self.breakdown(probe)
        scales: dict[str, float] = {}
        for i, t in enumerate(self.terms):
            if not t.auto:
                t.scale = scales[t.name] = 1.0
                continue
            (grad,) = torch.autograd.grad(raw[t.name], probe, retain_graph=i < len(self.terms) - 1)
            g = float(grad.abs().mean())
            if not (g > 0 and math.isfinite(g)):
                raise UserError(
                    f"loss term {t.name!r} has a {'zero' if g == 0 else 'non-finite'} gradient at the "
                    "noise probe, so it cannot be weighted: drop it or turn off normalisation")
            t.scale = 1.0 / g
            scales[t.name] = t.scale
        self.reset()
        return scales

    def reset(self) -> None:
        """Forget the state stateful terms keep between evaluations (neural-doodle's variety
        history), so the probe of :meth:`normalize` does not count as an evaluation."""
        for t in self.terms:
            if hasattr(t.loss, "reset"):
                t.loss.reset()
