import pytest
import torch

from untrained.losses import GramLoss, TVLoss
from untrained.nets import build, preset
from untrained.objective import Objective, Term


def _objective(texture):
    net = build(preset("vgg19"), 0)
    with torch.no_grad():
        feats = net(texture, ["conv1_1", "conv2_1", "conv3_1"])
    terms = [Term(f"gram:{k}", k, GramLoss(v)) for k, v in feats.items()] + [Term("tv", None, TVLoss(), 0.5)]
    return Objective(net, terms)


def test_zero_at_target(texture32):
    total, terms = _objective(texture32)(texture32)
    assert all(float(terms[f"gram:{k}"]) == 0 for k in ("conv1_1", "conv2_1", "conv3_1"))
    assert float(terms["tv"]) > 0 and float(total) == pytest.approx(float(terms["tv"]))


def test_normalize_equalises_gradient_impact(texture32):
    """He et al. §3: after normalising, every term sends a mean |gradient| of 1 to the probe."""
    obj = _objective(texture32)
    probe = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    scales = obj.normalize(probe)
    assert set(scales) == {"gram:conv1_1", "gram:conv2_1", "gram:conv3_1", "tv"}
    x = probe.clone().requires_grad_(True)
    raw = obj.breakdown(x)
    for t in obj.terms:
        (g,) = torch.autograd.grad(raw[t.name] * t.scale, x, retain_graph=True)
        assert float(g.abs().mean()) == pytest.approx(1.0, rel=1e-3)
    # unnormalised, the layers' gradients differ by orders of magnitude
    assert max(scales.values()) / min(scales.values()) > 10


def test_weights_multiply(texture32):
    obj = _objective(texture32)
    x = torch.rand(1, 3, 32, 32)
    _, a = obj(x)
    obj.terms[-1].weight = 1.0
    _, b = obj(x)
    assert float(b["tv"]) == pytest.approx(2 * float(a["tv"]))
