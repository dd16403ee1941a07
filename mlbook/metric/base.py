"""What the four metric methods share: an embedding network, episode checks, embedding a whole episode.

A metric method never adapts weights to a task. It embeds the support set D_i^tr and the query set D_i^ts
with one network f_θ and classifies each query by a simple, differentiable comparison with the support
embeddings; meta-training shapes f_θ (and any comparison parameters) so that the simple rule works.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.data.episodes import check_episode as check_usable_episode
from mlbook.models import Conv4
from mlbook.training import EpisodicMethod
from mlbook.validate import check_bool, check_device, check_module, check_tensor


def fast_bfloat16(device: torch.device | str = "cpu") -> bool:
    """Whether bfloat16 mixed precision is likely to be faster than float32 on ``device``: a CUDA GPU with
    bfloat16 support, or a CPU with native bfloat16 instructions (AVX512-BF16 or AMX). Elsewhere bfloat16 is
    emulated and slower, so the book only turns ``mixed_precision`` on where this says so."""
    device = check_device("device", device)
    if device.type == "cuda":
        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    if device.type != "cpu":
        return False
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()) and torch.backends.cpu.get_cpu_capability() in (
            "AVX512",
            "AVX512_BF16",
            "AMX",
        )
    except (AttributeError, RuntimeError):  # pragma: no cover - older or unusual builds
        return False


def default_encoder(hidden: int = 64, norm: str = "batch", image_size: int = 28, in_channels: int = 1) -> Conv4:
    """The Conv4 embedding of the few-shot literature (64-d at 28x28 with ``hidden=64``)."""
    return Conv4(in_channels=in_channels, hidden=hidden, norm=norm, image_size=image_size)



def check_episode(episode: Episode) -> None:
    """Raise a clear ``TypeError``/``ValueError`` unless ``episode`` is a well-formed classification episode:
    finite floating-point images ``[batch, C, H, W]`` of one size on one device, at least one support and one
    query example, integer labels in ``0..n_way-1`` and every class in the support set. Every metric method
    checks its episodes here, before any work is done."""
    check_usable_episode(episode)  # an Episode, floating-point inputs of one shape, labels in 0..n_way-1
    if episode.n_way is None:
        raise ValueError("metric methods classify: episode.n_way must be an int, got None (a regression episode?)")
    sx, sy, qx, qy = episode.support_x, episode.support_y, episode.query_x, episode.query_y
    for name, images in (("episode.support_x", sx), ("episode.query_x", qx)):
        if images.ndim != 4:
            raise ValueError(f"{name} must be [batch, C, H, W] images, got shape {tuple(images.shape)}")
    devices = {tensor.device for tensor in (sx, sy, qx, qy)}
    if len(devices) > 1:
        raise ValueError(
            f"episode tensors must be on one device, got support_x on {sx.device}, support_y on {sy.device}, "
            f"query_x on {qx.device}, query_y on {qy.device} (use episode.to(device))"
        )
    check_tensor("episode.support_x", sx, finite=True)
    check_tensor("episode.query_x", qx, finite=True)
    missing = sorted(set(range(episode.n_way)) - set(sy.tolist()))
    if missing:
        raise ValueError(
            f"episode.support_y must hold every class 0..{episode.n_way - 1} at least once; classes {missing[:5]} "
            "have no support example"
        )


class MetricMethod(EpisodicMethod):
    """Base class: ``encoder`` (f_θ) plus helpers.

    Two speed options, both off by default: ``channels_last=True`` changes only the memory layout of the
    convolutions (faster on CPUs; results equal up to float rounding); ``mixed_precision=True`` runs the
    encoder under ``torch.autocast`` in bfloat16 (about twice as fast on CPUs with bfloat16 instructions, and
    on GPUs) while parameters, embeddings, distances and losses stay float32.
    """

    def __init__(
        self, encoder: nn.Module | None = None, *, channels_last: bool = False, mixed_precision: bool = False
    ) -> None:
        super().__init__()
        if encoder is not None:
            check_module("encoder", encoder)
        self.encoder = encoder if encoder is not None else default_encoder()
        self.channels_last = check_bool("channels_last", channels_last)
        self.mixed_precision = check_bool("mixed_precision", mixed_precision)
        if self.channels_last:
            self.encoder.to(memory_format=torch.channels_last)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """f_θ(x) for a batch of images ``[B, C, H, W]`` (float32)."""
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=x.device.type, dtype=torch.bfloat16, enabled=self.mixed_precision):
            out = self.encoder(x)
        return out.float()

    def embed_episode(self, episode: Episode) -> tuple[torch.Tensor, torch.Tensor]:
        """Support and query embeddings from ONE forward pass (so BatchNorm sees one batch in training).
        ``episode`` must pass ``check_episode`` and sit on the device of the method's parameters."""
        self._check_device_of(episode)
        check_episode(episode)
        n_support = episode.support_x.shape[0]
        features = self.embed(torch.cat([episode.support_x, episode.query_x]))
        return features[:n_support], features[n_support:]

    def _check_device_of(self, episode: Episode) -> None:
        parameter = next(self.parameters(), None)
        images = episode.support_x if isinstance(episode, Episode) else None
        if parameter is not None and isinstance(images, torch.Tensor) and images.device != parameter.device:
            raise ValueError(
                f"episode is on {images.device} but the method's parameters are on {parameter.device}: "
                "move one of them (episode.to(device) or method.to(device))"
            )


def with_batch_statistics(method: nn.Module) -> nn.Module:
    """A copy of ``method`` whose BatchNorm layers normalise with the statistics of the batch they see, also in
    evaluation mode (``track_running_stats=False``), instead of the running averages from meta-training.

    For a metric method the "batch" at test time is one episode (support and query embedded together), so
    this is transductive: the query set influences the normalisation. The book compares both ways.
    """
    check_module("method", method)
    copied = copy.deepcopy(method)
    for module in copied.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.track_running_stats = False
            module.running_mean = None
            module.running_var = None
            module.num_batches_tracked = None
    return copied
