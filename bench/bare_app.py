"""The baseline for the healer benchmarks: a bare Flask app answering 204 (and /healthz)."""

from flask import Flask, Response

app = Flask(__name__)


@app.get("/healthz")
def healthz() -> Response:
    return Response('{"status": "ok"}', mimetype="application/json")


@app.post("/")
def push() -> Response:
    return Response(status=204)
