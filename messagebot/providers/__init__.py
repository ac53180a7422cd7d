"""Where the words come from: an OpenAI-compatible upstream, or the embedded local model."""

from __future__ import annotations

from ..config import Settings
from .base import Generation, Provider


def make_provider(settings: Settings) -> Provider:
    if settings.provider == "local":
        from .local import LocalProvider

        return LocalProvider(settings)
    from .openai import OpenAIProvider

    return OpenAIProvider(settings)


__all__ = ["Generation", "Provider", "make_provider"]
