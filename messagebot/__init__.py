"""MessageBot: writes greeting messages with a language model and streams them as written."""

from __future__ import annotations

import logging

from quart import Quart
from quart_schema import QuartSchema

from . import api, errors, web
from .config import Settings
from .generation import Writer
from .paths import data_dir
from .providers import make_provider
from .request import MAX_BODY_BYTES
from .stats import MemoryStats

__version__ = "0.1.0"


def create_app(settings: Settings | None = None) -> Quart:
    """The whole service; `hypercorn "messagebot:create_app()"` serves it."""
    settings = settings or Settings.from_env()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # The SDK's client logs every upstream request at INFO; one line per request is ours to write.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)

    app = Quart(__name__, template_folder=str(data_dir("templates")))
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    QuartSchema(
        app,
        info={"title": "MessageBot", "version": __version__},
        redoc_ui_path=None,
        scalar_ui_path=None,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    errors.init_app(app)

    provider = make_provider(settings)
    app.extensions["messagebot"] = Writer(provider, settings, MemoryStats())
    app.before_serving(provider.startup)
    app.after_serving(provider.shutdown)

    app.register_blueprint(api.bp)
    app.register_blueprint(web.bp)
    return app
