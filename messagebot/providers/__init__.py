"""Where the words come from: an OpenAI-compatible upstream, or the embedded local model."""

from __future__ import annotations

from dataclasses import replace

from ..config import LOCAL, Settings
from .base import Generation, Provider
from .fallback import FallbackProvider


def make_provider(settings: Settings) -> Provider:
    """The configured upstream; with fallbacks, the chain of them (providers/fallback.py)."""
    if not settings.fallbacks:
        return _one(settings)
    chain = [_one(settings)]
    for fallback in settings.fallbacks:
        if fallback.base_url == LOCAL:
            chain.append(_one(replace(settings, provider="local")))
        else:
            chain.append(
                _one(
                    replace(
                        settings,
                        provider="openai",
                        openai_base_url=fallback.base_url,
                        openai_api_key=fallback.api_key,
                        model=fallback.model,
                    )
                )
            )
    return FallbackProvider(settings, chain)


def _one(settings: Settings) -> Provider:
    if settings.provider == "local":
        from .local import LocalProvider

        return LocalProvider(settings)
    from .openai import OpenAIProvider

    return OpenAIProvider(settings)


__all__ = ["Generation", "Provider", "make_provider"]
