"""Pieces shared by the tasks: validation, scaled targets, style terms, the network holder."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from typing import Iterable

import torch

from ..config import derive_seed
from ..errors import UserError
from ..registry import closest
from ..losses import GramLoss, PatchLoss, SpectrumLoss, SWDLoss, TVLoss
from ..nets import NetSpec, build, min_input_size
from ..nets.init import validate as validate_init
from ..objective import Term
from ..image import resize
from .loop import OptimConfig, scale_sizes

#: The grid period :func:`fill_degrid` picks for a net with strided convolutions.
AUTO_DEGRID = 4

#: Style / texture losses by name; any may be followed by "+spectrum" (Liu et al. 2016).
STYLE_LOSSES = ("gram", "patch", "swd")


def parse_loss(loss: str) -> tuple[str, bool]:
    """``"gram+spectrum"`` → ``("gram", True)``; unknown names are a :class:`UserError`."""
    base, *extra = loss.split("+")
    if base not in STYLE_LOSSES or extra not in ([], ["spectrum"]):
        choices = list(STYLE_LOSSES) + [f"{b}+spectrum" for b in STYLE_LOSSES]
        raise UserError(f"unknown loss {loss!r}{closest(loss, choices)}; choose from {', '.join(choices)}")
    return base, bool(extra)


def blend_weights(blend: tuple[float, ...], count: int, what: str = "--blend", loss: str = "gram") -> tuple[float, ...]:
    """Normalised blend weights for *count* exemplars (equal when *blend* is empty)."""
    if count > 1 and loss.startswith("patch"):
        raise UserError("blending several exemplars needs --loss gram or swd (patches cannot be averaged)")
    if not blend:
        return tuple([1.0 / count] * count)
    if len(blend) != count:
        raise UserError(f"{what}: {len(blend)} weights for {count} images")
    if any(not (math.isfinite(w) and w >= 0) for w in blend) or not sum(blend) > 0:
        raise UserError(f"{what}: weights must be finite, ≥ 0 and not all 0, got {','.join(map(str, blend))}")
    return tuple(float(w) / sum(blend) for w in blend)


def finite_nonneg(value: float, what: str) -> float:
    """*value* as a float, or a :class:`UserError` unless it is finite and ≥ 0."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
        raise UserError(f"{what} must be a finite number ≥ 0, got {value}")
    return float(value)


def positive(value: float, what: str) -> float:
    """*value* as a float, or a :class:`UserError` unless it is finite and > 0."""
    if not (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0):
        raise UserError(f"{what} must be a finite number > 0, got {value}")
    return float(value)


def resolve_size(size, default: tuple[int, int]) -> tuple[int, int]:
    """The output size (H, W): *size*, or *default* when it is ``None``; a :class:`UserError`
    unless two positive numbers."""
    resolved = tuple(size) if size is not None else tuple(default)
    if len(resolved) != 2 or min(resolved) < 1:
        raise UserError(f"size must be two positive numbers, got {size}")
    return int(resolved[0]), int(resolved[1])


def fill_degrid(optim: OptimConfig, net: NetSpec) -> OptimConfig:
    """*optim* with ``degrid`` filled when unset: :data:`AUTO_DEGRID` (a notch at 4- and 2-px
    grids) when *net* has a strided convolution — the cause of the grids (issue 17; Champandard
    2016's nets) — else 0.  A value the user gave is kept, 0 included."""
    if optim.degrid is not None:
        return optim
    strided = any(layer.op == "conv" and layer.stride > 1 for layer in net.layers)
    return dataclasses.replace(optim, degrid=AUTO_DEGRID if strided else 0)


def check_choice(value: str, choices, what: str) -> str:
    """*value* if it is one of *choices*, else a :class:`UserError` listing them."""
    if value not in choices:
        raise UserError(f"unknown {what} {value!r}; choose from {', '.join(choices)}")
    return value


def check_net(net: NetSpec, *layer_groups: Iterable[str]) -> None:
    """Every named layer exists and the initialisers are valid."""
    for group in layer_groups:
        for name in group:
            net.index(name)
    validate_init(net.weights, net.bias)


def check_sizes(net: NetSpec, layers: Iterable[str], size: tuple[int, int], scales: int,
                images: dict[str, tuple[int, int]], patch: bool = False) -> None:
    """At the coarsest scale, the output and every reference image (scaled alike) must be large
    enough for the deepest layer (plus a 3×3 patch for the patch loss)."""
    layers = list(layers)
    deepest = max(layers, key=lambda n: min_input_size(net, n))
    need = min_input_size(net, deepest)
    if patch:
        from ..nets.build import feature_sizes

        while min(feature_sizes(net, (need, need))[deepest]) < 3:
            need += 1
    coarse = scale_sizes(size, scales)[0]
    if min(coarse) < need:
        raise UserError(
            f"the coarsest of {scales} scales is {coarse[1]}×{coarse[0]} px, smaller than the {need} px layer "
            f"{deepest} needs: use fewer scales, a larger size or shallower layers"
        )
    factor = coarse[0] / size[0]
    for what, (h, w) in images.items():
        sh, sw = round(h * factor), round(w * factor)
        if min(sh, sw) < need:
            raise UserError(
                f"the {what} ({w}×{h} px) shrinks to {sw}×{sh} px at the coarsest scale, smaller than the "
                f"{need} px layer {deepest} needs: use fewer scales or a larger {what}"
            )


def fit_scales(net: NetSpec, layers: Iterable[str], size: tuple[int, int], most: int,
               images: dict[str, tuple[int, int]], patch: bool = False) -> int:
    """The most coarse-to-fine scales, up to *most*, whose coarsest one :func:`check_sizes`
    accepts — the default's answer to a small input (a 64² exemplar gets fewer scales instead
    of an error); 1 when none fits (then :func:`check_sizes` names what is too small)."""
    layers = list(layers)
    for scales in range(most, 1, -1):
        try:
            check_sizes(net, layers, size, scales, images, patch=patch)
        except UserError:
            continue
        return scales
    return 1


def check_image(image: torch.Tensor, what: str) -> torch.Tensor:
    """A ``(1, 3, H, W)`` float image of finite values in [0, 1], or a :class:`UserError`."""
    if image.dim() == 3:
        image = image.unsqueeze(0)
    if image.dim() != 4 or tuple(image.shape[:2]) != (1, 3):
        raise UserError(f"{what} must be one RGB image (1, 3, H, W), got {tuple(image.shape)}")
    image = image.float()
    if not torch.isfinite(image).all():
        raise UserError(f"{what} holds NaN or infinite values")
    if image.numel() and (image.min() < 0 or image.max() > 1):
        raise UserError(f"{what} must hold values in [0, 1], got {float(image.min()):.4g}…"
                        f"{float(image.max()):.4g} (divide 8-bit pixels by 255)")
    return image


def scaled(image: torch.Tensor, factor: float) -> torch.Tensor:
    """*image* resized by *factor* (the coarse-to-fine scale), at least 1 px."""
    h, w = image.shape[-2:]
    return resize(image, (max(1, round(h * factor)), max(1, round(w * factor))))


def image_digest(image: torch.Tensor) -> str:
    """Short SHA-256 of an image tensor's 8-bit pixels, recorded as the input's identity."""
    arr = (image.detach().clamp(0, 1) * 255).round().to(torch.uint8).contiguous().numpy()
    return hashlib.sha256(arr.tobytes() + str(arr.shape).encode()).hexdigest()[:16]


def style_terms(
    feats,
    loss: str,
    weight: float,
    variety: float = 0.0,
    prefix: str = "",
    guides: dict[str, tuple[torch.Tensor, torch.Tensor]] | None = None,
    layer_weights: dict[str, float] | None = None,
    blend: tuple[float, ...] | None = None,
    circular: bool = False,
    swd_directions: float = 1.0,
    grams: bool = False,
) -> list[Term]:
    """One style term per layer: Gram matrices (Gatys; He et al.), neural patches (Champandard),
    optionally guided by semantic maps (Neural Doodle), or sliced Wasserstein (Heitz et al.).

    *feats* maps layers to the exemplar's activations — or, with several exemplars, is a list of
    such dicts whose statistics are mixed with *blend* weights (Gram and SWD only).  With *grams*
    (Gram loss only) the dicts hold target Gram matrices instead of activations.
    *swd_directions*: the SWD's directions per step, as a fraction of the channels."""
    many = isinstance(feats, (list, tuple))
    per_exemplar = list(feats) if many else [feats]
    if many and len(per_exemplar) > 1 and loss == "patch":
        raise UserError("blending several exemplars needs --loss gram or swd (patches cannot be averaged)")
    terms = []
    if grams and loss != "gram":
        raise ValueError(f"target Gram matrices need the gram loss, not {loss!r}")
    for name in per_exemplar[0]:
        targets = [f[name] for f in per_exemplar]
        w = weight * (layer_weights or {}).get(name, 1.0)
        if loss == "gram":
            module = GramLoss(target_gram=targets, weights=blend) if grams else GramLoss(targets, blend)
        elif loss == "swd":
            module = SWDLoss(targets, blend, directions=swd_directions)
        elif loss == "patch":
            guide, ex_guide = (guides or {}).get(name, (None, None))
            module = PatchLoss(targets[0], variety, guide=guide, exemplar_guide=ex_guide, circular=circular)
        else:
            raise UserError(f"unknown loss {loss!r}; choose from {', '.join(STYLE_LOSSES)}")
        terms.append(Term(f"{prefix}{loss}:{name}", name, module, w))
    return terms


def spectrum_term(exemplars: list[torch.Tensor], size: tuple[int, int], weight: float,
                  blend: tuple[float, ...] | None = None) -> list[Term]:
    """Liu et al. 2016's Fourier-magnitude term on the pixels, against the exemplar(s)."""
    return [Term("spectrum", None, SpectrumLoss(exemplars, size, blend), weight)]


def tv_term(smoothness: float, circular: bool = False, form: str = "squared") -> list[Term]:
    """The total-variation term, if asked for (wrapping around for tileable output); *form* is
    one of :data:`untrained.losses.TV_FORMS`."""
    return [Term("tv", None, TVLoss(circular, form), smoothness)] if smoothness > 0 else []


class NetProblem:
    """Holds a task's random network on its *device* and redraws it on restart (Du 2020 §3).

    Weights are drawn on the CPU (:func:`untrained.nets.build`) and then moved, so a seed gives
    the same network on every device; :meth:`put` moves the task's images there too."""

    def __init__(self, spec: NetSpec, seed: int, device: torch.device | str = "cpu"):
        self.spec, self.seed, self.device = spec, seed, torch.device(device)
        self.net = build(spec, derive_seed(seed, "net")).to(self.device)

    def put(self, image: torch.Tensor | None) -> torch.Tensor | None:
        """*image* on this problem's device (``None`` stays ``None``)."""
        return None if image is None else image.to(self.device)

    def reseed(self, attempt: int) -> None:
        self.net = build(self.spec, derive_seed(self.seed, f"net:restart{attempt}")).to(self.device)


