"""Device choice (issue #18): names resolve or fail in one line, draws come from CPU
generators, the device is recorded beside the output but not in the config.  CUDA tests skip
cleanly where there is no CUDA."""

from __future__ import annotations

import pytest
import torch

from untrained import devices
from untrained.errors import UserError
from untrained.synth.loop import OptimConfig, Synthesis
from untrained.synth.texture import TextureConfig, texture, texture_synthesis

from conftest import make_texture

CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not CUDA, reason="no CUDA device here")
TINY = dict(size=(32, 32), optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=4, channels_last=True),
            layers=("conv1_1", "conv2_1"))


def test_auto_is_cuda_then_mps_then_cpu():
    got = devices.resolve("auto")
    if CUDA:
        assert got.type == "cuda"
    elif devices._mps_available():
        assert got.type == "mps"
    else:
        assert got == torch.device("cpu")
    assert devices.resolve(None) == got
    assert devices.resolve("CPU") == torch.device("cpu")


@pytest.mark.skipif(CUDA, reason="CUDA is present")
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda:3"])
def test_missing_cuda_is_refused_in_one_line(name):
    with pytest.raises(UserError) as err:
        devices.resolve(name)
    assert "\n" not in str(err.value) and name in str(err.value) and "--device cpu" in str(err.value)


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "gpu0"])
def test_unknown_device_names_are_refused(name):
    with pytest.raises(UserError, match="device"):
        devices.resolve(name)


def test_cpu_run_records_its_device_but_the_config_does_not(texture32):
    result = texture(texture32, device="cpu", **TINY)
    assert result.stats["device"] == "cpu"
    assert result.image.device.type == "cpu"
    assert "device" not in result.config and "cpu" not in str(result.config)


def test_memory_estimate_uses_the_devices_free_memory(texture32, monkeypatch):
    """On an accelerator the refusal names the device's free memory, not the machine's."""
    import untrained.resources as res

    monkeypatch.setattr(res, "free_memory", lambda device: 1 << 20)
    with pytest.raises(UserError, match=r"more than the 0\.0 GiB available on cuda"):
        res.check_memory(TextureConfig().resolved((32, 32)).net, ("conv1_1",), (64, 64), device=torch.device("cuda"))
    monkeypatch.setattr(res, "free_memory", lambda device: None)
    monkeypatch.setattr(res, "available_memory", lambda: 1 << 20)
    with pytest.raises(UserError, match="GiB available: "):
        res.check_memory(TextureConfig().resolved((32, 32)).net, ("conv1_1",), (64, 64), device=torch.device("cpu"))


def test_deterministic_context_restores_the_settings():
    before = torch.are_deterministic_algorithms_enabled(), torch.backends.cuda.matmul.allow_tf32
    with devices.deterministic(torch.device("cuda")):
        assert torch.are_deterministic_algorithms_enabled()
        assert not torch.backends.cuda.matmul.allow_tf32 and not torch.backends.cudnn.allow_tf32
    assert (torch.are_deterministic_algorithms_enabled(), torch.backends.cuda.matmul.allow_tf32) == before


def _start(device: str):
    synthesis, _ = texture_synthesis(make_texture(32), TextureConfig(**TINY), device=device)
    start = synthesis._start_image(0, (32, 32))
    weights = {k: v.detach().cpu() for k, v in synthesis.problem.net.state_dict().items()}
    return start.cpu(), weights


@needs_cuda
def test_same_seed_same_weights_and_start_on_cpu_and_cuda():
    (a, wa), (b, wb) = _start("cpu"), _start("cuda")
    assert torch.equal(a, b)
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@needs_cuda
@pytest.mark.parametrize("loss", ["gram", "swd"])
def test_cuda_runs_are_repeatable_to_the_bit_and_close_to_cpu(loss):
    ex = make_texture(32)
    first, second = (texture(ex, device="cuda", loss=loss, **TINY) for _ in range(2))
    assert first.stats["device"].startswith("cuda")
    assert torch.equal(first.image, second.image)
    cpu = texture(ex, device="cpu", loss=loss, **TINY)
    assert (first.image - cpu.image).abs().max() < 0.05  # float32 on both; the order of sums differs


@needs_cuda
def test_cuda_patch_loss_and_style_run():
    from untrained.synth.style import style

    ex = make_texture(48)
    out = texture(ex, device="cuda", loss="patch", size=(48, 48), optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=3))
    assert out.image.shape == (1, 3, 48, 48) and torch.isfinite(out.image).all()
    res = style(ex, make_texture(48, 1), device="cuda", optim=OptimConfig(iterations=1, scales=1, lbfgs_max_iter=3))
    assert res.image.device.type == "cpu" and torch.isfinite(res.image).all()
