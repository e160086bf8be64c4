"""The web app: REST API under /api/v1 and HTML pages. Build it with ``create_app(settings)``."""
