"""The embedded local model (llama-cpp-python); see issue 3."""

from __future__ import annotations

from ..config import Settings
from ..errors import APIError
from ..prompts import Prompt
from .base import Generation


class LocalProvider:
    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model = "none"

    async def startup(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def open(self, prompt: Prompt) -> Generation:
        raise APIError(
            502,
            "upstream_error",
            "No provider is configured: set OPENAI_BASE_URL or OPENAI_API_KEY.",
        )
