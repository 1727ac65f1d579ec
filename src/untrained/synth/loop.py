"""The optimisation loop shared by every task: pixels optimised coarse-to-fine.

A :class:`Synthesis` runs a :class:`Problem` (anything that gives an objective and an initial
image for a size) over ``scales`` sizes, each starting from the upsampled previous result
(neural-doodle's ``--phases``), with L-BFGS or Adam.  It reports every evaluation to a callback
as an :class:`Iterate`, keeps the best image so far (for Ctrl-C), and can be resumed by calling
:meth:`Synthesis.run` again after an interruption.  It never prints.

Du 2020 §3's stability rules live here: NaN gradients become zero; an inf/NaN loss reseeds the
network and restarts (at most :data:`MAX_RESTARTS` times, each reported in :meth:`Synthesis.stats`);
when a restart diverges at exactly the same loss as the attempt before (a configuration with no
randomness, which reseeding cannot change), the next start image gets a 10 % perturbation.
Pixels are kept in [0, 1] by clamping after each Adam step and at the end of each scale.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol

import torch

from ..devices import deterministic, describe, synchronize
from ..config import derive_seed
from ..errors import UserError
from ..image import degrid, noise, randn, resize
from ..objective import Objective
from ..registry import Registry
from ..resources import default_history
from ..tiling import tiled

#: Pixel bounds during optimisation (see :class:`OptimConfig`).
BOUNDS = ("none", "project")
#: How a scale's result is enlarged for the next one.
UPSAMPLES = ("bilinear", "bicubic")
OPTIMIZERS: Registry[Callable[..., torch.optim.Optimizer]] = Registry("optimizer")
#: Default learning rate of each optimiser when the config leaves it unset.
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}


@dataclass(frozen=True)
class OptimConfig:
    """How pixels are optimised.

    ``iterations`` counts optimiser *steps* per scale.  An L-BFGS step runs up to
    ``lbfgs_max_iter`` iterations of one evaluation each (torch's ``max_iter``; Du 2020 §3 counts
    "20 steps of up to 20 evaluations"); an Adam step is one evaluation.  ``lr=None`` means the
    optimiser's default (:data:`DEFAULT_LR`).  ``scale_evaluations`` sets the evaluations of the
    finest scales (see :meth:`evaluation_cap`; more steps than ``iterations`` where an entry
    needs them): a full-resolution evaluation costs 4× one of the
    scale before, so a coarse-to-fine schedule spends its budget where it is cheap; ``None``
    leaves the choice to the task (texture synthesis caps by output size; others: no cap).  ``plateau``
    ends a scale early when one L-BFGS step lowers its best loss by less than that fraction.
    ``channels_last`` feeds the net NHWC tensors (the optimised pixels stay NCHW for L-BFGS):
    measured 14 % faster for the default texture net at 256², 23 % at 1024².  ``line_search``
    gives L-BFGS a strong-Wolfe line search (torch's ``line_search_fn="strong_wolfe"``; the
    SciPy L-BFGS-B of Gatys et al.'s code has one too): without it, L-BFGS takes each
    quasi-Newton step as it is, which is cheap but can crawl for a hundred evaluations after an
    early overshoot (He et al.'s σ = 0.015 VGG-19, ``conv1_1``+``conv2_1`` texture at 128²: loss
    0.039 vs 0.00095 after 400 evaluations; the default texture net: no difference).  Without
    it, an evaluation whose loss exceeds :data:`OVERSHOOT` × the scale's best sends the scale
    back to its best image and on with the line search (listed under ``stats.overshoots``): a
    default Renoir doodle's third evaluation reached 10⁵ × the loss and never came back.
    ``lbfgs_history=None`` keeps, at each scale, 100 curvature pairs, fewer where they would take
    more than 6 GiB (:func:`untrained.resources.default_history`: 100 up to 1448², 64 at 2048²,
    16 at 4096², 10 at 8192²).  ``tile_size``: at
    scales larger than this many px a side, losses that allow it (Gram, SWD) are evaluated over
    overlapping tiles of about this size (:mod:`untrained.tiling`; equal loss and gradient, one
    tile's activations in memory); 0 never tiles.

    ``None`` in ``iterations``, ``scales``, ``lbfgs_max_iter`` (and ``scale_evaluations``) means
    *unset*: a task may fill it adaptively (texture synthesis picks fewer scales for small inputs
    and caps evaluations only when no count was given), and :meth:`resolved` fills what is still
    unset from :data:`UNSET_DEFAULTS`.  A value that is set is used exactly as given.

    ``bounds="project"`` keeps pixels in [0, 1] during L-BFGS as the blog's SciPy L-BFGS-B box
    bounds do, by projection: every evaluation sees the image clamped to [0, 1], and a pixel
    beyond a bound gets its gradient only when that gradient points back inside (a projected
    gradient; the variables themselves are never clamped mid-scale, which would corrupt
    L-BFGS's curvature pairs).  ``upsample`` is how a scale's result is enlarged for the next:
    ``"bilinear"`` (antialiased) or ``"bicubic"`` (neural-doodle's ``imresize(…, 'bicubic')``).
    :func:`blog_schedule` gives Champandard 2016's whole schedule.

    ``degrid`` (a period in px; 0: off) optimises the pixels as seen through
    :func:`untrained.image.degrid`, a notch at the frequencies of a grid of that period: every
    evaluation and the output see the filtered image, so no 2- or 4-px grid can form (issue 17;
    the stride-2 convolutions of Champandard 2016's nets stamp one).  ``None`` lets the task
    choose (:func:`untrained.synth.common.fill_degrid`: 4 on nets with strided convolutions,
    else 0).
    """

    optimizer: str = "lbfgs"
    iterations: int | None = None
    scales: int | None = None
    lr: float | None = None
    lbfgs_max_iter: int | None = None
    lbfgs_history: int | None = None
    scale_evaluations: tuple[int, ...] | None = ()
    plateau: float = 0.0
    channels_last: bool = False
    line_search: bool = False
    tile_size: int = 2048
    bounds: str = "none"
    upsample: str = "bilinear"
    degrid: int | None = None

    def resolved(self, size: tuple[int, int] | None = None) -> "OptimConfig":
        """A copy with ``lr`` filled in, after validating every field (*size*, the output's,
        checks the L-BFGS history it would get)."""
        OPTIMIZERS.get(self.optimizer)
        self = replace(self, **{k: v for k, v in UNSET_DEFAULTS.items() if getattr(self, k) is None})
        if self.iterations < 1:
            raise UserError(f"iterations must be ≥ 1, got {self.iterations}")
        if self.scales < 1:
            raise UserError(f"scales must be ≥ 1, got {self.scales}")
        if self.lbfgs_max_iter < 1:
            raise UserError(f"lbfgs_max_iter must be ≥ 1, got {self.lbfgs_max_iter}")
        history = self.lbfgs_history if self.lbfgs_history is not None else default_history(size)
        if history < 1:
            raise UserError(f"lbfgs_history must be ≥ 1, got {self.lbfgs_history}")
        if self.tile_size < 0 or 0 < self.tile_size < 64:
            raise UserError(f"tile size must be 0 (never tile) or ≥ 64 px, got {self.tile_size}")
        lr = DEFAULT_LR[self.optimizer] if self.lr is None else self.lr
        if not (lr > 0 and math.isfinite(lr)):
            raise UserError(f"learning rate must be a positive number, got {self.lr}")
        caps = tuple(int(c) for c in self.scale_evaluations or ())
        if any(c < 1 for c in caps):
            raise UserError(f"evaluations per scale must be ≥ 1, got {list(caps)}")
        if not (0 <= self.plateau < 1):
            raise UserError(f"plateau must be in [0, 1), got {self.plateau}")
        if self.line_search and self.optimizer != "lbfgs":
            raise UserError(f"a line search needs the lbfgs optimizer, not {self.optimizer}")
        if self.bounds not in BOUNDS:
            raise UserError(f"unknown bounds {self.bounds!r}; choose from {', '.join(BOUNDS)}")
        if self.upsample not in UPSAMPLES:
            raise UserError(f"unknown upsampling {self.upsample!r}; choose from {', '.join(UPSAMPLES)}")
        if self.degrid != 0 and (int(self.degrid) != self.degrid or self.degrid < 2):
            raise UserError(f"degrid must be 0 (off) or a grid period of ≥ 2 px, got {self.degrid}")
        return replace(self, lr=float(lr), scale_evaluations=caps, plateau=float(self.plateau), degrid=int(self.degrid))

    def history(self, size: tuple[int, int]) -> int:
        """The L-BFGS pairs kept at a scale of *size*: ``lbfgs_history`` as given, else by size."""
        return self.lbfgs_history if self.lbfgs_history is not None else default_history(size)

    def evaluations_per_step(self) -> int:
        """Upper bound of evaluations in one step."""
        return self.lbfgs_max_iter if self.optimizer == "lbfgs" else 1

    def _scale_entry(self, scale: int, scales: int) -> int | None:
        back = scales - 1 - scale
        if self.scale_evaluations and back < len(self.scale_evaluations):
            return self.scale_evaluations[-1 - back]
        return None

    def evaluation_cap(self, scale: int, scales: int) -> int:
        """The most evaluations scale *scale* (0 = coarsest) of *scales* may use: its entry of
        ``scale_evaluations``, which counts from the finest scale backwards (``(60, 30)``: the
        finest scale 30, the next 60, coarser ones unchanged) so one budget fits every number of
        scales; without an entry, its steps × evaluations per step.  An entry above that
        product is honoured too, with more steps (:meth:`scale_steps`; issue 15: explicit
        counts are run as given)."""
        entry = self._scale_entry(scale, scales)
        return self.iterations * self.evaluations_per_step() if entry is None else entry

    def scale_steps(self, scale: int, scales: int) -> int:
        """The most optimiser steps scale *scale* of *scales* may take: ``iterations``, or as
        many more as its entry of ``scale_evaluations`` needs (⌈entry / evaluations per step⌉)."""
        entry = self._scale_entry(scale, scales)
        return self.iterations if entry is None else max(self.iterations, -(-entry // self.evaluations_per_step()))

    def max_evaluations(self, scales: int | None = None) -> int:
        """Upper bound of evaluations over all scales (for progress bars)."""
        n = self.scales if scales is None else scales
        return sum(self.evaluation_cap(s, n) for s in range(n))


#: What :meth:`OptimConfig.resolved` puts in fields the user and the task both left ``None``.
UNSET_DEFAULTS = {"iterations": 5, "scales": 3, "lbfgs_max_iter": 20, "degrid": 0}


def blog_schedule(base: OptimConfig | None = None, evaluations: int = 9, phases: int = 4) -> OptimConfig:
    """Champandard 2016's schedule as neural-doodle (commit c17e91c) ran it, on top of *base*:
    *phases* scales (``--phases=4``: 1/8, 1/4, 1/2 and 1 of the output, the style rescaled to
    each), each capped at *evaluations* function evaluations (SciPy's
    ``maxfun=args.iterations-1``: 9 for the blog's ``--iterations=10``), L-BFGS with m = 5 and a
    line search, pixels bounded to the valid range (by projection, see :class:`OptimConfig`) and
    each phase started from the previous result upsampled bicubically."""
    return replace(base or OptimConfig(), optimizer="lbfgs", iterations=1, lbfgs_max_iter=evaluations, scales=phases,
                   lbfgs_history=5, line_search=True, bounds="project", upsample="bicubic", scale_evaluations=(),
                   plateau=0.0)


class _Project(torch.autograd.Function):
    """Clamp to [0, 1]; the gradient passes where the pixel is inside, or outside with a
    gradient that points back inside (projected gradient for box bounds)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(0, 1)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        (x,) = ctx.saved_tensors
        blocked = ((x > 1) & (grad < 0)) | ((x < 0) & (grad > 0))
        return grad.masked_fill(blocked, 0.0)


def project(x: torch.Tensor) -> torch.Tensor:
    """*x* clamped to [0, 1] with a projected gradient (:class:`OptimConfig`'s ``bounds``)."""
    return _Project.apply(x)


def upsample(image: torch.Tensor, size: tuple[int, int], mode: str = "bilinear", circular: bool = False) -> torch.Tensor:
    """*image* enlarged to *size* for the next scale: :func:`resize`, or bicubic (no antialiasing
    is needed when enlarging) as neural-doodle does."""
    if mode == "bicubic" and not circular:
        return torch.nn.functional.interpolate(image, size=size, mode="bicubic", align_corners=False)
    return resize(image, size, circular)


@OPTIMIZERS.register("lbfgs", "torch.optim.LBFGS (Gatys et al.; He et al.; Du 2020)")
def _lbfgs(params, cfg: OptimConfig) -> torch.optim.Optimizer:
    size = tuple(params[0].shape[-2:])
    return torch.optim.LBFGS(params, lr=cfg.lr, max_iter=cfg.lbfgs_max_iter, history_size=cfg.history(size),
                             line_search_fn="strong_wolfe" if cfg.line_search else None)


@OPTIMIZERS.register("adam", "torch.optim.Adam")
def _adam(params, cfg: OptimConfig) -> torch.optim.Optimizer:
    return torch.optim.Adam(params, lr=cfg.lr)


#: How many times a diverging synthesis is restarted with a reseeded network (Du 2020 §3).
MAX_RESTARTS = 3


class Diverged(RuntimeError):
    """The loss became inf or NaN."""


class _CapReached(Exception):
    """A scale has used its evaluations (raised mid-step: a line search does not count them)."""


#: An evaluation of L-BFGS without line search whose loss exceeds this multiple of the scale's
#: best is an overshoot: the scale goes back to its best image and goes on with a line search.
OVERSHOOT = 10.0


class _Overshoot(Exception):
    """L-BFGS without line search stepped far uphill (raised mid-step)."""


class Problem(Protocol):
    """What a task supplies to the loop, for each scale, on its ``device`` (the loop optimises
    there; starting images may come back on the CPU and are moved)."""

    device: torch.device

    def objective(self, size: tuple[int, int], factor: float) -> Objective:
        """The objective for an output of *size* (H, W), *factor* = size / final size."""

    def initial(self, size: tuple[int, int], generator: torch.Generator) -> torch.Tensor:
        """The starting image ``(1, 3, H, W)`` of the first scale."""

    def reseed(self, attempt: int) -> None:
        """Draw the network again for restart number *attempt* (1, 2, …) after a divergence."""


@dataclass(frozen=True)
class Iterate:
    """What a callback sees after each evaluation of the objective."""

    scale: int
    scales: int
    size: tuple[int, int]
    step: int
    evaluation: int
    loss: float
    terms: dict[str, float]
    image: torch.Tensor


@dataclass
class Result:
    """A finished synthesis: the image, the loss history, the resolved config and run facts."""

    image: torch.Tensor
    history: list[dict[str, Any]]
    config: dict[str, Any]
    stats: dict[str, Any] = field(default_factory=dict)


def scale_sizes(size: tuple[int, int], scales: int) -> list[tuple[int, int]]:
    """Output sizes coarse → fine: each scale halves the next one, the last is *size*."""
    h, w = size
    return [(max(1, round(h / 2**k)), max(1, round(w / 2**k))) for k in range(scales - 1, -1, -1)]


class Synthesis:
    """Resumable coarse-to-fine optimisation of an image for a :class:`Problem`.

    ``run()`` returns the final image; interrupted (e.g. by ``KeyboardInterrupt``), it leaves
    :attr:`best_image` holding the best image so far, and calling ``run()`` again resumes.
    """

    def __init__(
        self,
        problem: Problem,
        optim: OptimConfig,
        size: tuple[int, int],
        seed: int,
        normalize: bool = True,
        callback: Callable[[Iterate], None] | None = None,
    ):
        self.problem = problem
        self.device = torch.device(getattr(problem, "device", "cpu"))
        self.optim = optim.resolved()
        self.sizes = scale_sizes(size, self.optim.scales)
        self.normalize = normalize
        self.callback = callback
        self.generator = torch.Generator().manual_seed(derive_seed(seed, "synthesis"))
        self.scale = 0  # the scale to run next
        self.image: torch.Tensor | None = None  # result of the last finished scale
        self.best_image: torch.Tensor | None = None
        self.best_loss = math.inf
        self.history: list[dict[str, Any]] = []
        self.evaluations = 0
        self.seconds = 0.0
        self.term_scales: list[dict[str, float]] = []
        self.restarts: list[dict[str, Any]] = []
        self.overshoots: list[dict[str, Any]] = []
        self.perturb = False
        self._resume: tuple[int, torch.Tensor] | None = None
        self._last_finite: float | None = None  # of the current attempt

    @property
    def done(self) -> bool:
        """True once every scale has run."""
        return self.scale >= len(self.sizes)

    def run(self) -> torch.Tensor:
        """Run (or resume) all remaining scales; the final image ``(1, 3, H, W)``, on the CPU."""
        with deterministic(self.device):
            while not self.done:
                start = time.perf_counter()
                try:
                    self.image = self._run_scale(self.scale)
                    self.scale += 1
                except Diverged as exc:
                    self._restart(exc)
                finally:
                    synchronize(self.device)
                    self.seconds += time.perf_counter() - start
        assert self.image is not None
        return self.image.cpu()

    def _restart(self, exc: Diverged) -> None:
        """Du 2020 §3: reseed the network and start again; perturb if reseeding changed nothing:
        this attempt's last finite loss equals the previous attempt's (``None`` when an attempt
        diverged at its first evaluation, so two of those in a row count as the same)."""
        same = bool(self.restarts) and self.restarts[-1]["last_finite_loss"] == self._last_finite
        self.restarts.append({"scale": self.scale, "evaluation": self.evaluations, "loss": str(exc),
                              "last_finite_loss": self._last_finite, "perturbed": same})
        if len(self.restarts) > MAX_RESTARTS:
            raise UserError(
                f"the synthesis diverged (loss {exc}) {len(self.restarts)} times, reseeding and perturbing did not help: "
                "try a smaller learning rate, other weights or --optimizer adam"
            )
        self.perturb = same
        self.problem.reseed(len(self.restarts))
        self.scale, self.image, self.best_image, self._resume = 0, None, None, None
        self.term_scales, self._last_finite = [], None

    def _start_image(self, s: int, size: tuple[int, int]) -> torch.Tensor:
        if self._resume is not None and self._resume[0] == s:
            return self._resume[1].clone()
        if self.image is None:
            x = self.problem.initial(size, self.generator).to(self.device)
            if self.perturb:  # 10 % multiplicative noise (Du 2020 §3)
                x = x * (1 + 0.1 * randn(x.shape, self.generator, self.device))
            return x.clamp(0, 1)
        return upsample(self.image, size, self.optim.upsample, getattr(self.problem, "tile", False)).clamp(0, 1)

    def _seen(self, x: torch.Tensor) -> torch.Tensor:
        """The image the objective and the user see for pixels *x*: through the grid notch when
        ``degrid`` is on, else *x* itself."""
        if not self.optim.degrid:
            return x
        return degrid(x, self.optim.degrid, circular=getattr(self.problem, "tile", False))

    def _run_scale(self, s: int) -> torch.Tensor:
        size = self.sizes[s]
        factor = size[0] / self.sizes[-1][0]
        x = self._start_image(s, size)
        objective = tiled(self.problem.objective(size, factor), self.optim.tile_size, size)
        probe = noise(size, self.generator, self.device)
        scales = objective.normalize(probe) if self.normalize else {t.name: 1.0 for t in objective.terms}
        if s < len(self.term_scales):
            self.term_scales[s] = scales
        else:
            self.term_scales.append(scales)
        x.requires_grad_(True)
        opt = OPTIMIZERS.get(self.optim.optimizer)([x], self.optim)
        self.best_loss, self.best_image = math.inf, x.detach().clone()
        step = 0
        start, cap = self.evaluations, self.optim.evaluation_cap(s, len(self.sizes))
        steps = self.optim.scale_steps(s, len(self.sizes))
        quasi_newton = self.optim.optimizer == "lbfgs"
        guard = quasi_newton and not self.optim.line_search  # on until the scale's first overshoot (the closure reads it)

        def closure():
            if self.evaluations - start >= cap:
                raise _CapReached
            opt.zero_grad(set_to_none=False)
            seen = self._seen(project(x) if self.optim.bounds == "project" else x)
            loss, terms = objective(seen.contiguous(memory_format=torch.channels_last) if self.optim.channels_last else seen)
            loss.backward()
            with torch.no_grad():
                x.grad.nan_to_num_(nan=0.0, posinf=0.0, neginf=0.0)  # Du 2020 §3
            value = float(loss.detach())
            self.evaluations += 1
            if not math.isfinite(value):
                raise Diverged(value)
            self._last_finite = value
            if value < self.best_loss:
                self.best_loss, self.best_image = value, x.detach().clone()
                self._resume = (s, self.best_image)
            values = {k: float(v.detach()) for k, v in terms.items()}  # one read (a sync on a GPU)
            self.history.append({"scale": s, "step": step, "evaluation": self.evaluations, "loss": value,
                                 **values})
            if self.callback is not None:  # a snapshot of the pixels seen (unprojected), not the live tensor
                shown = seen if self.optim.bounds != "project" else self._seen(x)
                self.callback(Iterate(s, len(self.sizes), size, step, self.evaluations, value,
                                      dict(values), shown.detach().clone()))
            if guard and 0 < self.best_loss < value / OVERSHOOT:  # (a loss ≤ 0 has no scale to compare)
                raise _Overshoot
            return loss

        while step < steps:
            before, best_before = self.evaluations, self.best_loss
            remaining = cap - (before - start)
            if remaining <= 0:
                break
            if quasi_newton:  # the last step of a capped scale is shortened to fit
                opt.param_groups[0].update(max_iter=min(self.optim.lbfgs_max_iter, remaining),
                                           max_eval=min(self.optim.lbfgs_max_iter * 5 // 4, remaining))
            objective.resample(self.generator)
            try:
                opt.step(closure)
            except _CapReached:
                break
            except _Overshoot:
                # a fixed-length quasi-Newton step from a bad curvature estimate (seen on the first
                # steps of doodles: loss × 10⁵, never recovered): back to the best image, and the
                # rest of the scale with a strong-Wolfe line search, which only accepts descent
                self.overshoots.append({"scale": s, "evaluation": self.evaluations})
                guard = False
                with torch.no_grad():
                    x.copy_(self.best_image)
                opt = OPTIMIZERS.get(self.optim.optimizer)([x], replace(self.optim, line_search=True))
                continue  # the same step again (at most once a scale: the guard is now off)
            step += 1
            if quasi_newton and self.evaluations - before <= 1:
                break  # L-BFGS has converged (its tolerances): further steps would do nothing
            if not quasi_newton:
                with torch.no_grad():
                    x.clamp_(0, 1)
            if quasi_newton and self.optim.plateau and math.isfinite(best_before) and \
                    best_before - self.best_loss < self.optim.plateau * abs(best_before):
                break  # the loss has levelled off at this scale
        # Keep the best evaluated image (L-BFGS's last step is usually, not always, the best),
        # clamped to the valid range.  L-BFGS itself runs unclamped: clamping in place between
        # its evaluations corrupts its curvature pairs (measured: NaN losses at 128 px).
        final = self._seen(self.best_image).clamp(0, 1)
        self._resume = None
        return final

    def stats(self) -> dict[str, Any]:
        """Facts of this run for the output JSON (not part of the deterministic config)."""
        return {
            "evaluations": self.evaluations,
            "seconds": round(self.seconds, 3),
            "ms_per_evaluation": round(1000 * self.seconds / max(self.evaluations, 1), 2),
            "final_loss": self.best_loss,
            "scale_sizes": [list(s) for s in self.sizes],
            "device": describe(self.device),
            "scale_evaluations_run": [sum(1 for h in self.history if h["scale"] == s) for s in range(len(self.sizes))],
            "term_scales": self.term_scales,
            "restarts": self.restarts,
            "overshoots": self.overshoots,
        }
