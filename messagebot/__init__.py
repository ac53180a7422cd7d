"""MessageBot: writes greeting messages with a language model and streams them as written."""

from __future__ import annotations

import logging

from quart import Quart
from quart_schema import APIKeySecurityScheme, HttpSecurityScheme, QuartSchema

from . import errors
from .config import ConfigError, Settings
from .paths import data_dir
from .providers import make_provider
from .stats import MemoryStats, RedisStats, Stats
from .web import cors, docs, security
from .web.request import MAX_BODY_BYTES

__version__ = "0.1.0"
log = logging.getLogger("messagebot")


def create_app(settings: Settings | None = None) -> Quart:
    """The whole service; `hypercorn "messagebot:create_app()"` serves it."""
    if settings is None:
        try:
            settings = Settings.from_env()
        except ConfigError as error:
            # `hypercorn "messagebot:create_app()"`: the message, as `messagebot serve` says it,
            # not a traceback (Python prints a SystemExit's text to stderr, and stops).
            raise SystemExit(f"messagebot: configuration error: {error}") from None
    # Only now, once the settings are read: prometheus_client opens files under
    # PROMETHEUS_MULTIPROC_DIR as these modules define their metrics, so a directory that
    # is not there must be refused by name first, not by a traceback at import.
    from . import lifecycle, metrics
    from .generation import GenerationService
    from .web import api, generations, page, ratelimit, request_log

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    app = Quart(
        __name__,
        template_folder=str(data_dir("templates")),
        static_folder=str(data_dir("static")),
        static_url_path="/static",
    )
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    QuartSchema(
        app,
        info={"title": "MessageBot", "version": __version__},
        redoc_ui_path=None,
        scalar_ui_path=None,
        swagger_ui_path=None,  # web/docs.py serves /docs from the app's own files
        # The two ways to give a key (web/security.py), so that /docs can send one ("Authorize").
        security_schemes={
            "bearer": HttpSecurityScheme(scheme="bearer"),
            "apiKey": APIKeySecurityScheme(in_="header", name="X-API-Key"),
        },
        security=[{"bearer": []}, {"apiKey": []}] if settings.api_keys else None,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    errors.init_app(app)

    security.init_app(app)  # keys are checked before a request counts against a rate limit
    cors.init_app(app, settings.cors_origins)
    ratelimit.init_app(app, settings)

    provider = make_provider(settings)
    stats: Stats = (
        RedisStats(
            settings.redis_url,
            verify=settings.redis_verify,
            max_connections=settings.redis_max_connections,
        )
        if settings.redis_url
        else MemoryStats()
    )
    service = GenerationService(provider, settings, stats)
    app.extensions["messagebot"] = service
    lifecycle.init_app(app, service)
    app.before_serving(stats.startup)
    app.before_serving(provider.startup)
    app.after_serving(provider.shutdown)
    app.after_serving(stats.shutdown)
    if not settings.api_keys and settings.on_heroku:
        log.warning(
            "MESSAGEBOT_API_KEYS is empty: anyone who reaches this app can spend your model budget"
        )

    app.register_blueprint(api.bp)
    if settings.page:  # MESSAGEBOT_PAGE=off: no page, no token minted or honoured
        app.register_blueprint(page.bp)
    app.register_blueprint(docs.bp)
    app.register_blueprint(metrics.bp)
    routes = {rule.rule for rule in app.url_map.iter_rules()}
    # Inside the request log, so that it logs how a closed generation ended.
    app.asgi_app = request_log.RequestLog(  # type: ignore[method-assign]
        generations.CloseGenerations(app.asgi_app), routes
    )
    return app
