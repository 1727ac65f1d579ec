"""untrained — image synthesis with random, never-trained convolutional networks.

Textures from an exemplar (He et al. 2016; Du 2020), with more tasks to come, on a CPU with no
weights to download.  The library never prints: progress goes to callbacks.
"""

from .errors import UserError
from .io import load_image, save_image
from .nets import NetSpec, build, preset
from .synth import Iterate, OptimConfig, Result, Synthesis, TextureConfig, texture, texture_synthesis

__version__ = "0.1.0"

__all__ = [
    "Iterate", "NetSpec", "OptimConfig", "Result", "Synthesis", "TextureConfig", "UserError",
    "build", "load_image", "preset", "save_image", "texture", "texture_synthesis",
]
