"""A stand-in WSGI app for the gunicorn config's tests: it answers every request with the
X-Request-ID it was sent (or a fixed one), as the service does, and nothing else."""


def app(environ, start_response):
    request_id = environ.get("HTTP_X_REQUEST_ID", "stand-in-generated")
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-Request-ID", request_id)])
    return [b"ok\n"]
