"""The WSGI app for gunicorn (deploy/gunicorn.conf.py): LeadHub with its Socket.IO server.

Migrations are not run here: two web processes starting together would race. Run
`leadhub db upgrade` once per release (deploy/systemd/leadhub-migrate.service does).
"""

from __future__ import annotations

from leadhub.app import create_app

app = create_app({"REALTIME": True})
