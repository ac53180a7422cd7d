"""The interface both providers share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from ..text.prompts import Prompt, PromptStyle


class Generation(Protocol):
    """One accepted generation: text pieces as the model writes them."""

    #: Token counts, once the provider has reported them (None if it never does).
    usage: dict[str, Any] | None

    def pieces(self) -> AsyncIterator[str]:
        """Yield text as it is written; raise APIError when the provider fails mid-way."""
        ...

    async def aclose(self) -> None:
        """Stop generating and release the connection or the model, at once."""
        ...


class Provider(Protocol):
    name: str
    model: str
    #: Chat messages for instruction-tuned models; a few-shot text for base models.
    prompt_style: PromptStyle
    #: The languages (primary subtags) the model writes acceptably, or None for every one we
    #: know (language.NAMES). A request in another is refused with a 422 naming `language`.
    languages: frozenset[str] | None

    async def startup(self) -> None:
        """Get ready to serve (open clients, load the model); fail fast on bad config."""
        ...

    async def shutdown(self) -> None: ...

    async def open(self, prompt: Prompt, seed: int | None = None) -> Generation:
        """Return once the provider has accepted the request; raise APIError if it refuses.

        A `seed` asks for a different sample than the provider's default (one request's `n`
        messages each get their own)."""
        ...
