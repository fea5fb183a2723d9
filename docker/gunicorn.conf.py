"""gunicorn settings for quotecheck; every value can be overridden from the environment."""

import multiprocessing
import os

bind = os.environ.get("QUOTECHECK_BIND", "127.0.0.1:8000")
# Verification is CPU-bound: one sync worker per core, plus one to cover I/O waits.
workers = int(os.environ.get("QUOTECHECK_WORKERS", multiprocessing.cpu_count() + 1))
worker_class = "sync"
# Load the app (and the English word lists) once in the master: workers are forked from it,
# share those pages copy-on-write, and a restarted worker is serving within milliseconds.
# The word index is in the database file, shared through the page cache, not in memory.
preload_app = True
timeout = int(os.environ.get("QUOTECHECK_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 10_000
max_requests_jitter = 1_000
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("QUOTECHECK_LOG_LEVEL", "info")
