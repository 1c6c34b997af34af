"""A campaign's definition as a form: read from a post, written back into the page.

Pure apart from :func:`check_references`, which looks up what the definition
names (its segment and templates). Problems are keyed by the definition's
paths (``segment``, ``channels.1.template``, ``goal.within_days``), which are
also the keys of the slots beside the inputs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pydantic

from sen.messaging.campaigns import CampaignDefinition
from sen.web import i18n
from sen.web.pages import forms

STEPS = 4


def _many(form: Any, key: str) -> list[str]:
    getter = getattr(form, "getlist", None)
    values = getter(key) if getter else form.get(key, [])
    return [v for v in (values if isinstance(values, list) else [values]) if v]


def read(form: Any, lang: str) -> tuple[dict[str, Any], dict[str, str]]:
    """``(definition JSON, problems)`` from a posted form; what cannot even be read
    (a budget of ``abc``) is a problem here, the rest the model decides."""
    found: dict[str, str] = {}
    steps = []
    for i in range(STEPS):
        channel = str(form.get(f"step-{i}-channel", "")).strip()
        if channel:
            steps.append({"channel": channel,
                          "template": str(form.get(f"step-{i}-template", "")).strip()})
    budget = None
    try:
        budget = forms.whole_number(str(form.get("budget", "")))
    except ValueError:
        found["budget"] = i18n.translate(lang, "form.rule.number")
    holdout = str(form.get("holdout_percent", "")).strip().replace(",", ".") or "0"
    goal_event = str(form.get("goal_event", "")).strip()
    send_at = str(form.get("send_at", "")).strip() if form.get("when") == "later" else ""
    if form.get("when") == "later" and not send_at:
        found["send_at"] = i18n.translate(lang, "form.rule.datetime")
    data = {
        "name": str(form.get("name", "")).strip(), "title": str(form.get("title", "")).strip(),
        "description": str(form.get("description", "")).strip(),
        "segment": str(form.get("segment", "")).strip(),
        "purpose": str(form.get("purpose", "advertising")), "channels": steps,
        "send_at": send_at or None, "quiet": str(form.get("quiet", "wait")),
        "holdout_percent": holdout,
        "goal": {"event": goal_event, "within_days": str(form.get("goal_days", "")).strip()
                 or "7"} if goal_event else None,
        "budget": budget,
        "exclude": {k: _many(form, f"exclude_{k}") for k in ("campaigns", "journeys",
                                                              "segments")},
    }
    return data, found


def validate(data: dict[str, Any], lang: str) -> tuple[CampaignDefinition | None, dict[str, str]]:
    try:
        return CampaignDefinition.model_validate(data), {}
    except pydantic.ValidationError as exc:
        found = forms.problems(exc, lang)
        if "channels" in found and not data["channels"]:
            found["channels"] = i18n.translate(lang, "campaigns.no_channel")
        return None, found


def check_references(data: dict[str, Any], segments: set[str],
                     templates: dict[str, Any], lang: str) -> dict[str, str]:
    """The segment and each step's template must exist, be usable and fit the channel
    (checked on what was typed, so they show with the form's other problems)."""
    found: dict[str, str] = {}
    if data["segment"] and data["segment"] not in segments:
        found["segment"] = i18n.translate(lang, "form.unknown", value=data["segment"])
    for i, step in enumerate(data["channels"]):
        t = templates.get(step["template"])
        key = f"channels.{i}.template"
        if not step["template"]:
            continue
        if t is None:
            found[key] = i18n.translate(lang, "form.unknown", value=step["template"])
        elif t.archived:
            found[key] = i18n.translate(lang, "campaigns.template_archived", name=t.name)
        elif str(t.channel) != step["channel"]:
            found[key] = i18n.translate(lang, "campaigns.template_channel",
                                        channel=i18n.translate(lang, f"channel.{t.channel}"))
    return found


def view(d: CampaignDefinition | None, data: dict[str, Any] | None) -> dict[str, Any]:
    """What the form shows: a saved definition, or what was posted when it came back."""
    src: dict[str, Any] = data if data is not None else (
        d.model_dump(mode="json") if d is not None else {})
    goal = src.get("goal") or {}
    send_at = src.get("send_at") or ""
    if isinstance(send_at, datetime):
        send_at = send_at.isoformat()
    steps = list(src.get("channels") or [{"channel": "sms", "template": ""}])
    steps += [{"channel": "", "template": ""}] * (STEPS - len(steps))
    return {"name": src.get("name", ""), "title": src.get("title", ""),
            "description": src.get("description", ""), "segment": src.get("segment", ""),
            "purpose": str(src.get("purpose", "advertising")), "steps": steps,
            "when": "later" if send_at else "now", "send_at": str(send_at)[:16],
            "quiet": src.get("quiet", "wait"),
            "holdout_percent": src.get("holdout_percent", 0) or 0,
            "goal_event": goal.get("event", "") if data is not None or d is None or d.goal
            else "", "goal_days": goal.get("within_days", 7),
            "budget": src.get("budget") if src.get("budget") is not None else "",
            "exclude": src.get("exclude") or {"campaigns": [], "journeys": [], "segments": []}}
