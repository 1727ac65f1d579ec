"""Feature inversion: reconstruct an image from one layer's activations of a random network,
starting from white noise (He et al. 2016 §3 "inverting deep representations"; Mahendran &
Vedaldi 2015 with random weights).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

import torch

from ..config import to_dict
from ..losses import ContentLoss
from ..nets import NetSpec, preset
from ..objective import Objective, Term
from ..resources import check_memory
from .common import (NetProblem, check_image, check_net, check_sizes, finite_nonneg, image_digest, resolve_size,
                     scaled, tv_term)
from ..image import noise, resize
from .loop import Iterate, OptimConfig, Result, Synthesis


@dataclass(frozen=True)
class InvertConfig:
    """Settings of a feature inversion; the output has the image's size unless ``size`` is set
    (the image is then resized first).  ``layer`` may be any layer, pooling layers included."""

    layer: str = "conv3_1"
    size: tuple[int, int] | None = None
    net: NetSpec = field(default_factory=lambda: preset("vgg19"))
    smoothness: float = 0.0
    optim: OptimConfig = field(default_factory=lambda: OptimConfig(iterations=10, scales=1))
    seed: int = 0

    def resolved(self, image_size: tuple[int, int]) -> "InvertConfig":
        """Fill the size and check every setting."""
        size = resolve_size(self.size, image_size)
        check_net(self.net, [self.layer])
        cfg = dataclasses.replace(self, size=size, optim=self.optim.resolved(),
                                  smoothness=finite_nonneg(self.smoothness, "smoothness"))
        check_sizes(self.net, [self.layer], cfg.size, cfg.optim.scales, {})
        return cfg


class InvertProblem(NetProblem):
    """Squared error to the target image's activations at one layer (plus optional TV)."""

    def __init__(self, image: torch.Tensor, config: InvertConfig):
        super().__init__(config.net, config.seed)
        self.image, self.config = image, config

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        with torch.no_grad():
            target = self.net(scaled(self.image, factor), [self.config.layer])[self.config.layer]
        terms = [Term(f"content:{self.config.layer}", self.config.layer, ContentLoss(target))]
        return Objective(self.net, terms + tv_term(self.config.smoothness))

    def initial(self, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        return noise(size, generator)


def invert_synthesis(image: torch.Tensor, config: InvertConfig | None = None,
                     callback: Callable[[Iterate], None] | None = None) -> tuple[Synthesis, dict, InvertProblem]:
    """A ready-to-run inversion of *image*, its resolved config, and the problem (for scoring)."""
    image = check_image(image, "image")
    cfg = (config or InvertConfig()).resolved(tuple(image.shape[-2:]))
    check_memory(cfg.net, [cfg.layer], cfg.size, cfg.optim.lbfgs_history)
    if tuple(image.shape[-2:]) != cfg.size:
        image = resize(image, cfg.size)
    problem = InvertProblem(image, cfg)
    synthesis = Synthesis(problem, cfg.optim, cfg.size, cfg.seed, normalize=True, callback=callback)
    return synthesis, {"task": "invert", **to_dict(cfg), "inputs": {"image": image_digest(image)}}, problem


def invert_scores(problem: InvertProblem, output: torch.Tensor) -> dict[str, float]:
    """Relative feature error at the inverted layer, PSNR and SSIM against the target image."""
    from ..metrics import psnr, relative_feature_error, ssim

    return {
        "relative_feature_error": relative_feature_error(problem.net, problem.config.layer, output, problem.image),
        "psnr": psnr(output, problem.image),
        "ssim": ssim(output, problem.image),
    }


def invert(image: torch.Tensor, config: InvertConfig | None = None, *,
           callback: Callable[[Iterate], None] | None = None, **changes) -> Result:
    """Reconstruct *image* from its activations at ``layer`` of a random net, from white noise
    (He et al. 2016 §3).  ``result.stats["scores"]`` holds the relative feature error, PSNR and
    SSIM against *image*."""
    cfg = dataclasses.replace(config or InvertConfig(), **changes)
    synthesis, resolved, problem = invert_synthesis(image, cfg, callback)
    out = synthesis.run()
    stats = synthesis.stats()
    stats["scores"] = invert_scores(problem, out)
    return Result(out, synthesis.history, resolved, stats)
