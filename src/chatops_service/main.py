"""Cloud Run entry point: ``gunicorn chatops_service.main:app``.

Settings are read from the environment once, at import; a bad environment stops
the process with a message that says what to fix.
"""

from __future__ import annotations

from chatops_service.app import create_app
from chatops_service.settings import Settings

app = create_app(Settings.from_env())
