#!/bin/sh
# Create or upgrade the database (and load the seed quotes into an empty one), then run
# the command: gunicorn by default. exec, so that gunicorn is PID 1 and gets the signals.
set -eu
quotecheck init
exec "$@"
