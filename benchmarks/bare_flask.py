"""The yardstick for the webhook: a Flask app with one POST route, served as `leadhub serve` is.

`python -m benchmarks.bare_flask --port N` runs it with the same server and the same options
as `leadhub serve`: that runs Flask-SocketIO's `run`, which in threading mode is Flask's
`app.run(threaded=True)`, Werkzeug with a thread per connection. So the difference in
throughput is LeadHub's own work: signature, JSON, the inbox row and the queue.
"""

from __future__ import annotations

import argparse

from flask import Flask, request

app = Flask(__name__)


@app.post("/api/v1/meta/webhook")
def webhook() -> tuple[str, int]:
    request.get_data()  # read the body, as any endpoint must before it answers
    return "", 200


@app.get("/healthz")
def healthz() -> tuple[str, int]:
    return "ok", 200


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bare_flask")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The call `leadhub serve` ends in (cli.py, then Flask-SocketIO), debug and reloader off.
    app.run(host=args.host, port=args.port, debug=False, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
