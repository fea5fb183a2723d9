"""Speakers: the people quotes are attributed to, with their aliases."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from quotes_db.models import Page, Speaker

from ..schemas import (
    MAX_ID,
    SpeakerPageSchema,
    SpeakerQuerySchema,
    SpeakerSchema,
    SpeakerUpdateSchema,
)
from . import Blueprint, current_store

blp = Blueprint("speakers", __name__, url_prefix="/v1", description="Speakers and their aliases.")


@blp.route("/speakers")
class SpeakerList(MethodView):
    @blp.arguments(SpeakerQuerySchema, location="query")
    @blp.response(200, SpeakerPageSchema)
    def get(self, args: dict[str, Any]) -> Page[Speaker]:
        """List speakers by name, optionally those whose name or alias contains ``q``."""
        return current_store().list_speakers(
            name=args.get("q"), limit=args["limit"], offset=args["offset"]
        )


@blp.route(f"/speakers/<int(max={MAX_ID}):speaker_id>")
class SpeakerItem(MethodView):
    @blp.response(200, SpeakerSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    def get(self, speaker_id: int) -> Speaker:
        """Return one speaker with their aliases and number of quotes."""
        return current_store().get_speaker(speaker_id)

    @blp.arguments(SpeakerUpdateSchema)
    @blp.response(200, SpeakerSchema)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.alt_response(409, response="CONFLICT")
    def patch(self, data: dict[str, Any], speaker_id: int) -> Speaker:
        """Rename a speaker or replace their aliases."""
        return current_store().update_speaker(
            speaker_id, name=data.get("name"), aliases=data.get("aliases")
        )
