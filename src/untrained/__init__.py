"""untrained — image synthesis with random, never-trained convolutional networks.

Textures from an exemplar (He et al. 2016; Du 2020; Champandard 2016), feature inversion,
style transfer and Neural Doodle, with objective metrics, on a CPU with no weights to
download.  The library never prints: progress goes to callbacks.
"""

from . import metrics
from .errors import UserError
from .io import load_image, save_image
from .metrics import evaluate
from .nets import NetSpec, build, preset
from .nets.modify import NetOptions, make
from .synth import Iterate, OptimConfig, Result, Synthesis, TextureConfig, texture, texture_synthesis
from .synth.doodle import DoodleConfig, doodle
from .synth.edit import EditConfig
from .synth.enhance import enhance
from .synth.mashup import mashup
from .synth.remake import remake
from .synth.repair import expand, repair
from .synth.invert import InvertConfig, invert
from .synth.style import StyleConfig, style, style_preset

__version__ = "0.1.0"

__all__ = [
    "DoodleConfig", "EditConfig", "InvertConfig", "Iterate", "NetOptions", "NetSpec", "OptimConfig", "Result", "StyleConfig",
    "Synthesis", "TextureConfig", "UserError", "build", "doodle", "enhance", "evaluate", "expand", "invert", "load_image", "make", "mashup",
    "metrics", "preset", "remake", "repair", "save_image", "style", "style_preset", "texture", "texture_synthesis",
]
