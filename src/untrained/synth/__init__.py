"""The optimisation loop and the tasks built on it."""

from ..image import resize
from .loop import OPTIMIZERS, Iterate, OptimConfig, Result, Synthesis, scale_sizes
from .texture import TextureConfig, texture, texture_synthesis

__all__ = [
    "OPTIMIZERS", "Iterate", "OptimConfig", "Result", "Synthesis", "TextureConfig",
    "resize", "scale_sizes", "texture", "texture_synthesis",
]
