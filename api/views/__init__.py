"""The API's blueprints, one per resource, and what they share: the store and the parser."""

from __future__ import annotations

import json
from typing import Any, cast

import flask_smorest
from flask import Request, current_app
from webargs.flaskparser import FlaskParser, is_json_request

from quotes_db.store import QuoteStore

from ..errors import Problem

__all__ = ["Blueprint", "JSONBodyParser", "current_store"]


class JSONBodyParser(FlaskParser):
    """webargs' Flask parser, strict about request bodies.

    A body must be declared as JSON (415 otherwise) and be UTF-8 JSON (400 otherwise).
    Parsing is done here because ``json.loads`` raises RecursionError on deep nesting and
    ValueError on integers with too many digits, and webargs would let both through as 500s.
    """

    def load_json(self, req: Request, schema: Any) -> Any:
        if not is_json_request(req):
            given = f"not {req.mimetype}" if req.mimetype else "and a Content-Type is required"
            raise Problem(415, f"The request body must be application/json, {given}.")
        raw = req.get_data(cache=True)
        if not raw.strip():
            raise Problem(400, "The request body is empty; send a JSON object.")
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            raise Problem(400, "The request body is not valid UTF-8.") from None
        except RecursionError:
            raise Problem(400, "The request body is nested too deeply.") from None
        except json.JSONDecodeError as exc:
            raise Problem(
                400, f"The request body is not valid JSON: {exc.msg} at character {exc.pos}."
            ) from None
        except ValueError:  # an integer beyond Python's digit limit for str -> int
            raise Problem(400, "The request body holds a number too long to read.") from None


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = JSONBodyParser()


def current_store() -> QuoteStore:
    """Return the store of the current app (opened once, in create_app)."""
    return cast(QuoteStore, current_app.extensions["quotecheck"])
