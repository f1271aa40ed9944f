"""gunicorn settings for one LeadHub web process: `gunicorn -c deploy/gunicorn.conf.py`.

Socket.IO (Flask-SocketIO in threading mode with simple-websocket) needs every request of a
client to reach the same process, and gunicorn's own balancer cannot promise that. So each
gunicorn runs ONE worker process with many threads (gthread), and you scale out by running more
gunicorns on more ports, with nginx in front keeping each client on its process (ip_hash; see
deploy/nginx/leadhub.conf). Redis (REDIS_URL) carries events between the processes.

Settings from the environment:
  LEADHUB_BIND      address to listen on (default 127.0.0.1:8001)
  LEADHUB_THREADS   threads of the process (default 100); each open WebSocket holds one, so
                    this is about the live dashboards one process serves
  PROMETHEUS_MULTIPROC_DIR  a directory shared by the web and worker processes of this machine,
                    emptied at boot (systemd: RuntimeDirectory); /metrics adds their samples up
"""

from __future__ import annotations

import os

wsgi_app = "leadhub.ops.wsgi:app"
bind = [os.environ.get("LEADHUB_BIND", "127.0.0.1:8001")]
worker_class = "gthread"
workers = 1  # never more: see above
threads = int(os.environ.get("LEADHUB_THREADS", "100"))
# A WebSocket is a long request: the gthread worker keeps serving others while it lasts, and
# the heartbeat of an idle worker is independent of request length.
timeout = 60
graceful_timeout = 20
keepalive = 5
# Several gunicorns on one machine would otherwise share one control socket under $HOME.
control_socket_disable = True
# nginx writes the access log; request lines could carry ids users typed.
accesslog = None
errorlog = "-"
loglevel = "info"
proc_name = "leadhub-web"
forwarded_allow_ips = "127.0.0.1,::1"

_production = os.environ.get("LEADHUB_ENV") == "production"
if os.environ.get("LOG_FORMAT", "json" if _production else "text").lower() == "json":
    # gunicorn's own lines as JSON too, like LeadHub's (leadhub.ops.logs)
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "leadhub.ops.logs.JsonFormatter"}},
        "handlers": {
            name: {"class": "logging.StreamHandler", "formatter": "json", "stream": stream}
            for name, stream in (
                ("console", "ext://sys.stdout"),
                ("error_console", "ext://sys.stderr"),
            )
        },
        "root": {"level": "INFO", "handlers": ["console"]},
        "loggers": {
            "gunicorn.error": {"level": "INFO", "handlers": ["error_console"], "propagate": False},
            # no access lines: nginx keeps them, and query strings may hold what users typed
            "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
        },
    }


def child_exit(server, worker):  # noqa: ANN001, ANN201 - gunicorn's hook signature
    """A dead process's live gauges (Socket.IO connections) stop counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
