"""The segment pages: the list with sizes and trends, the builder, one segment, overlap.

The list, a segment's history and the overlap matrix are server-rendered like
every other page. The builder is the one place with JavaScript
(``static/segments.js``, plain, no framework, nothing from the internet): it
edits the rule as a tree, asks ``POST /api/segments/preview`` for the count,
each branch's count and a few members as the rule changes, and saves through
``PUT /api/segments/{name}``. What it needs at start (the field list, the saved
segments, the rule being edited, its words) comes in the page as JSON, so the
builder opens without a round trip. **Chạy ngay / Run now** is a plain form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.encoders import jsonable_encoder
from markupsafe import Markup
from starlette.responses import RedirectResponse, Response

from sen.errors import ValidationError
from sen.segments import rules, saved
from sen.segments.audiences import links
from sen.traits import fields as catalogue
from sen.web import i18n
from sen.web.auth import VIEW_PROFILES, require_role
from sen.web.segments_api import DEFINE_SEGMENTS
from sen.web.traits_fields_api import EXPORT_TRAITS
from sen.web.ui import locale_of, mark_ui, render
from sen.web.users import User

router = APIRouter(dependencies=[Depends(mark_ui)], include_in_schema=False)
Reader = Annotated[User, Depends(require_role(*VIEW_PROFILES))]
Definer = Annotated[User, Depends(require_role(*DEFINE_SEGMENTS))]
FLASH = "flash"
TREND_RUNS = 20
EVENT_NAMES = 100
OVERLAP_MAX = 20
MESSAGE_KINDS = ("received", "delivered", "opened", "clicked", "converted")
ORDER_STATUSES = ("completed", "refunded", "cancelled", "any")
# The traits a members' export ticks by default.
EXPORT_DEFAULT = ("lifecycle_stage", "rfm_group", "orders", "spend", "clv_12m")
# Order fields the builder suggests values for, and the trait in the field list whose
# commonest values (already counted for the page) serve as the suggestions.
ORDER_SUGGESTED = {"brand": "favourite_brand", "category": "favourite_category",
                   "size": "favourite_size", "channel": "channels", "store": "favourite_store"}
# Words the builder's script shows; sent with the page in its language.
BUILDER_WORDS = (
    "builder.all", "builder.any", "builder.add_condition", "builder.add_group",
    "builder.negate", "builder.negated", "builder.remove", "builder.kind",
    "builder.kind.trait", "builder.kind.event", "builder.kind.segment",
    "builder.kind.message", "builder.choose_field", "builder.did", "builder.did_not",
    "builder.within_days", "builder.days", "builder.event_name", "builder.member",
    "builder.not_member", "builder.campaign", "builder.period", "builder.empty",
    "builder.incomplete", "builder.members", "builder.yes", "builder.no",
    "builder.saving", "builder.name_needed", "op.between",
    "builder.event_property", "builder.value", "builder.times", "builder.channel",
    "builder.spent", "builder.measure", "builder.measure.times", "builder.measure.spent",
    "builder.any_channel", *(f"channel.{c}" for c in rules.MESSAGE_CHANNELS),
    "builder.kind.order", "builder.order.status", "builder.order.field",
    "builder.order.any_item",
    *(f"builder.order.{status}" for status in ORDER_STATUSES),
    *(f"builder.order.field.{name}" for name in rules.ORDER_FIELDS + rules.LINE_FIELDS),
    "op.within_days", "op.more_than_days_ago", "op.top_percent",
    *(f"message.{k}" for k in MESSAGE_KINDS),
    *(f"op.{o}" for o in ("=", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains",
                          "starts_with", "is_set", "is_not_set")),
)


@dataclass(frozen=True)
class Sparkline:
    """A size trend as an SVG polyline, oldest run on the left."""

    width: int
    height: int
    points: str
    last: tuple[float, float] | None


def sparkline(sizes: list[int], width: int = 120, height: int = 28, pad: float = 3) -> Sparkline:
    """Lay out ``sizes`` (oldest first) in a ``width`` x ``height`` box; flat when constant."""
    if not sizes:
        return Sparkline(width, height, "", None)
    low, high = min(sizes), max(sizes)
    span = (high - low) or 1
    step = (width - 2 * pad) / max(len(sizes) - 1, 1)
    coords = [(round(pad + i * step, 1),
               round(height - pad - (height - 2 * pad) * ((v - low) / span if high > low
                                                         else 0.5), 1))
              for i, v in enumerate(sizes)]
    return Sparkline(width, height, " ".join(f"{x},{y}" for x, y in coords), coords[-1])


def _json(data: Any) -> Markup:
    """Data for a ``<script type="application/json">``: nothing in it can close the tag."""
    text = json.dumps(jsonable_encoder(data), ensure_ascii=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e")
                  .replace("&", "\\u0026"))


def _event_names(engine: Any) -> list[str]:
    """The commonest names event conditions can match: those of ``profile_events``
    (page and screen views included), which is the table the conditions read."""
    rows = engine.cursor().execute(
        "SELECT event FROM profile_events GROUP BY event ORDER BY count(*) DESC LIMIT ?",
        [EVENT_NAMES]).fetchall()
    return sorted(r[0] for r in rows)


def _order_fields(field_list: list[dict[str, Any]]) -> dict[str, Any]:
    """The order condition's statuses and fields. The ones a marketer types (brand,
    category, size, channel, store) get the commonest values of the matching trait
    (favourite brand…) from the page's field list as suggestions: no extra query."""
    traits = {f["name"]: f for f in field_list}
    out = []
    for name in rules.ORDER_FIELDS + rules.LINE_FIELDS:
        field: dict[str, Any] = {
            "name": name, "type": "number" if name in rules.NUMERIC_ORDER_FIELDS else "text"}
        trait = traits.get(ORDER_SUGGESTED.get(name, ""))
        if trait is not None:
            field["top"] = [t["value"] for t in trait.get("top") or []]
        out.append(field)
    return {"statuses": list(ORDER_STATUSES), "fields": out}


@router.get("/segments")
def segments_page(request: Request, user: Reader) -> Response:
    """Every saved segment: its size at the last run, when that was, and the trend."""
    engine, ops = request.app.state.analytics, request.app.state.ops
    last_syncs = links.last_runs(engine)
    by_segment: dict[str, list[links.AudienceLink]] = {}
    for link in links.all_links(ops):
        by_segment.setdefault(link.segment, []).append(link)
    rows = []
    for s in saved.all_segments(ops):
        runs = saved.history(engine, s.name, TREND_RUNS)
        sizes = [r.members for r in reversed(runs)]
        linked = by_segment.get(s.name, [])
        rows.append({"segment": s, "last": runs[0] if runs else None,
                     "previous": runs[1] if len(runs) > 1 else None,
                     "trend": sparkline(sizes), "audiences": len(linked),
                     "audiences_failing": sum(
                         1 for link in linked
                         if getattr(last_syncs.get(link.name), "status", None) == "failed")})
    return render(request, "segments.html", {
        "rows": rows, "can_define": user.role in DEFINE_SEGMENTS,
        "flash": request.session.pop(FLASH, None)}, user=user)


def _builder(request: Request, user: User, segment: saved.Segment | None) -> Response:
    engine, ops = request.app.state.analytics, request.app.state.ops
    lang = locale_of(request, user)
    others = [{"name": s.name, "title": s.title} for s in saved.all_segments(ops)
              if segment is None or s.name != segment.name]
    history = saved.history(engine, segment.name) if segment else []
    field_list = catalogue.field_list(engine)
    setup = {
        "lang": lang, "fields": field_list, "segments": others,
        "events": _event_names(engine), "messages": list(MESSAGE_KINDS),
        "orders": _order_fields(field_list), "channels": list(rules.MESSAGE_CHANNELS),
        "rule": rules.dump(segment.rule) if segment else None,
        "name": segment.name if segment else None,
        "words": {k: i18n.translate(lang, k) for k in BUILDER_WORDS},
        "can_define": user.role in DEFINE_SEGMENTS,
    }
    last_syncs = links.last_runs(engine) if segment else {}
    audience_links = [{"link": link, "last": last_syncs.get(link.name)}
                      for link in links.all_links(ops, segment=segment.name)] if segment else []
    return render(request, "segment_builder.html", {
        "segment": segment, "setup": _json(setup), "history": history,
        "audience_links": audience_links,
        "kept": {at for at, _ in saved.snapshots(engine, segment.name)} if segment else set(),
        "export_fields": [(f["name"], f["label"].get(lang) or f["name"]) for f in field_list
                          if f["name"] != catalogue.SPEND_IN_PERIOD.name],
        "export_default": EXPORT_DEFAULT,
        "trend": sparkline([r.members for r in reversed(history[:TREND_RUNS])], 240, 40),
        "can_define": user.role in DEFINE_SEGMENTS, "can_export": user.role in EXPORT_TRAITS,
        "flash": request.session.pop(FLASH, None)}, user=user)


@router.get("/segments/new")
def new_segment(request: Request, user: Reader) -> Response:
    """An empty builder (readers can explore counts; only definers can save)."""
    return _builder(request, user, None)


@router.get("/segments/overlap")
def overlap_page(request: Request, user: Reader,
                 names: Annotated[list[str], Query()] = []) -> Response:  # noqa: B006
    """Choose segments; the members every pair shares (the diagonal is each one's size)."""
    if len(names) > OVERLAP_MAX:
        raise ValidationError(f"Choose at most {OVERLAP_MAX} segments.", field="names")
    segments = saved.all_segments(request.app.state.ops)
    known = {s.name: s for s in segments}
    chosen = [n for n in dict.fromkeys(names) if n in known]
    matrix = saved.overlap(request.app.state.analytics, chosen) if chosen else None
    return render(request, "segments_overlap.html", {
        "segments": segments, "chosen": chosen, "matrix": matrix, "titles": {
            n: s.title for n, s in known.items()}}, user=user)


@router.get("/segments/{name}")
def segment_page(request: Request, name: str, user: Reader) -> Response:
    """A saved segment in the builder, with its runs and a Run now button."""
    return _builder(request, user, saved.get(request.app.state.ops, name))


@router.get("/segments/{name}/export")
def export_members(request: Request, name: str,
                   _: Annotated[User, Depends(require_role(*EXPORT_TRAITS))],
                   fields: Annotated[list[str], Query()] = [],  # noqa: B006
                   format: str = "csv") -> Response:
    """The export form's choice, as the export API's address (fields comma-separated)."""
    saved.get(request.app.state.ops, name)
    query = urlencode({"segment": name, "fields": ",".join(fields), "format": format})
    return RedirectResponse(f"/api/traits/export?{query}", status_code=303)


@router.post("/segments/{name}/run")
def run_now(request: Request, name: str, user: Definer) -> Response:
    """Recompute the members on the writer thread, then back to the segment's page."""
    segment = saved.get(request.app.state.ops, name)
    engine = request.app.state.analytics
    done = request.app.state.writer.run_exclusive(lambda: saved.run(engine, segment))
    lang = locale_of(request, user)
    request.session[FLASH] = {"key": "segments.ran", "params": {
        k: i18n.format_number(getattr(done, k), lang) for k in ("members", "entered",
                                                                 "exited")}}
    return RedirectResponse(f"/segments/{name}", status_code=303)


@router.post("/segments/{name}/audiences")
def add_audience_link(request: Request, name: str, user: Definer,
                      link_name: Annotated[str, Form(alias="name")],
                      destination: Annotated[str, Form()], audience_id: Annotated[str, Form()],
                      purpose: Annotated[str, Form()] = "target") -> Response:
    """Link the segment to an ad audience (it syncs after the segment's next run)."""
    import pydantic

    try:
        link = links.AudienceLink(name=link_name, segment=name, destination=destination,
                                  audience_id=audience_id.strip(), purpose=purpose)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationError(f"{first['loc'][0]}: {first['msg']}.",
                              field=str(first["loc"][0])) from None
    links.save_link(request.app.state.ops, link, actor=user.username)
    request.session[FLASH] = {"key": "audiences.saved", "params": {"link": link.name}}
    return RedirectResponse(f"/segments/{name}#audiences", status_code=303)


@router.post("/segments/{name}/audiences/{link_name}/sync")
def sync_audience_now(request: Request, name: str, link_name: str, user: Definer) -> Response:
    """Send the segment's changes to the platform now; the outcome comes back as a flash."""
    state = request.app.state
    link = links.get_link(state.ops, link_name)
    done = links.sync(state.analytics, link, settings=state.settings,
                      write=state.writer.run_exclusive)
    lang = locale_of(request, user)
    if done.status == "ok":
        request.session[FLASH] = {"key": "audiences.synced", "params": {
            "link": link.name, "added": i18n.format_number(done.added, lang),
            "removed": i18n.format_number(done.removed, lang)}}
    else:
        request.session[FLASH] = {"key": "audiences.failed", "error": True,
                                  "params": {"link": link.name, "error": done.error}}
    return RedirectResponse(f"/segments/{name}#audiences", status_code=303)
