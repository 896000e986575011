"""CLIP image vectors with open_clip, from a checkpoint file the user gives (the GPU option).

Nothing is downloaded: the model architecture comes from open_clip's bundled configs (`model_name`,
e.g. "ViT-B-32"), the weights from `checkpoint` (a local `.bin`/`.pt`/`.safetensors` file), and the
Hugging Face hub is switched off while the model loads. torch and open_clip are imported only when
a `ClipImageEmbedder` is made, so the default install does not need them.

Image and text vectors of one CLIP model share a space (`embed_texts`), but not the articles' text
embedder's space: a CLIP image index is searched with CLIP text vectors.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from trendreel.errors import ConfigError
from trendreel.index.media.images import ImageInput, normalize_rows

__all__ = ["ClipImageEmbedder"]

log = logging.getLogger(__name__)

_INSTALL = "pip install torch open_clip_torch (on a GPU machine, the torch build for its CUDA version)"


@contextlib.contextmanager
def _hub_offline() -> Iterator[None]:
    """Make any hub access inside open_clip fail instead of downloading."""
    keys = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: "1" for k in keys})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class ClipImageEmbedder:
    """Image vectors from an open_clip model loaded from `checkpoint` on `device` ("cpu", "cuda", "cuda:1")."""

    @classmethod
    def from_settings(cls, index, text_embedder=None) -> "ClipImageEmbedder":
        """The registry's `clip` image embedder: index.clip_model from the local index.clip_checkpoint."""
        if not (index.clip_model and index.clip_checkpoint):
            raise ConfigError("index.image_embedder = clip needs index.clip_model and index.clip_checkpoint")
        return cls(index.clip_model, index.clip_checkpoint)

    def __init__(self, model_name: str, checkpoint: Path, *, device: str = "cpu", batch_size: int = 32):
        if not model_name or model_name.startswith(("hf-hub:", "http://", "https://")):
            raise ConfigError(
                f"CLIP model name {model_name!r} must be one of open_clip's built-in architectures "
                "(e.g. ViT-B-32); models are never fetched from a hub"
            )
        checkpoint = Path(checkpoint).expanduser()
        if not checkpoint.is_file():
            raise ConfigError(
                f"CLIP checkpoint {checkpoint} does not exist: give the path of a downloaded weights file"
            )
        if not (device == "cpu" or device == "cuda" or device.startswith("cuda:")):
            raise ConfigError(f"CLIP device must be cpu, cuda or cuda:N, not {device!r}")
        try:
            import open_clip
            import torch
        except ImportError as exc:
            raise ConfigError(f"the CLIP image embedder needs torch and open_clip: {_INSTALL}") from exc
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(
                f"CLIP device {device} asked for, but torch sees no CUDA GPU (is the CUDA build installed?)"
            )
        if model_name not in open_clip.list_models():
            known = ", ".join(open_clip.list_models()[:20])
            raise ConfigError(f"unknown CLIP architecture {model_name!r}; open_clip knows: {known} ...")

        self._torch = torch
        self._open_clip = open_clip
        self.model_name = model_name
        self.device = device
        self.batch_size = batch_size
        try:
            with _hub_offline():
                model, _, preprocess = open_clip.create_model_and_transforms(
                    model_name, pretrained=str(checkpoint), device=device
                )
        except Exception as exc:  # wrong file for this architecture, corrupt file, out of memory ...
            raise ConfigError(f"CLIP checkpoint {checkpoint.name} could not be loaded as {model_name}: {exc}") from exc
        model.eval()
        self._model = model
        self._preprocess = preprocess
        self._tokenizer = None
        config = open_clip.get_model_config(model_name) or {}
        self.dim = int(config.get("embed_dim") or model.visual.output_dim)
        self.name = f"clip:{model_name}:{checkpoint.stem}"

    def embed_images(self, items: Sequence[ImageInput]) -> np.ndarray:
        """One unit row per image (from pixels; caption_text is not used); a zero row for an unreadable file."""
        from PIL import Image

        torch = self._torch
        out = np.zeros((len(items), self.dim), dtype=np.float32)
        for start in range(0, len(items), self.batch_size):
            batch, rows = [], []
            for i, item in enumerate(items[start:start + self.batch_size], start):
                try:
                    with Image.open(item.path) as img:
                        batch.append(self._preprocess(img.convert("RGB")))
                    rows.append(i)
                except (OSError, ValueError, SyntaxError) as exc:
                    log.warning("CLIP skipped image %s: %s", Path(item.path).name, exc)
            if not batch:
                continue
            with torch.no_grad():
                feats = self._model.encode_image(torch.stack(batch).to(self.device))
            out[rows] = normalize_rows(feats.float().cpu().numpy())
        return out

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """CLIP text vectors (unit rows), to search a CLIP image index with words."""
        torch = self._torch
        if self._tokenizer is None:
            try:
                with _hub_offline():
                    self._tokenizer = self._open_clip.get_tokenizer(self.model_name)
            except Exception as exc:
                raise ConfigError(f"the tokenizer of {self.model_name} is not available offline: {exc}") from exc
        with torch.no_grad():
            feats = self._model.encode_text(self._tokenizer(list(texts)).to(self.device))
        return normalize_rows(feats.float().cpu().numpy())
