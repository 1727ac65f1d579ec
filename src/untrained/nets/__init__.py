"""Random networks: architecture specs and presets, initialisers, and the builder."""

from .build import FeatureNet, NetStack, border_masks, border_shares, build, check_input_size, feature_sizes, min_input_size
from .init import BIASES, WEIGHTS
from .spec import PRESETS, LayerSpec, NetSpec, preset

__all__ = [
    "BIASES", "FeatureNet", "LayerSpec", "NetSpec", "NetStack", "PRESETS", "WEIGHTS",
    "border_masks", "border_shares", "build", "check_input_size", "feature_sizes", "min_input_size", "preset",
]
