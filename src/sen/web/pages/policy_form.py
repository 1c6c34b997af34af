"""The policy form's rows, read from a post and written back into the page.

Pure: a posted form in, the policy's JSON (or the rows to show again) out. The
rows are named ``caps-<i>-<key>`` and ``quiet-<i>-<key>``; a row ticked for
removal, or whose numbers and times are empty, is dropped.
"""

from __future__ import annotations

from typing import Any

import pydantic

from sen.messaging.policy import MessagingPolicy
from sen.web.pages import forms

ROWS_MAX = 20
CAP_KEYS = ("purpose", "channel", "window_hours", "max")
QUIET_KEYS = ("purpose", "channel", "start", "end")


def rows(form: dict[str, Any], prefix: str, keys: tuple[str, ...], *,
         keep_empty: bool = False) -> list[dict[str, str]]:
    out = []
    for i in range(ROWS_MAX):
        row = {k: str(form.get(f"{prefix}-{i}-{k}", "")).strip() for k in keys}
        removed = f"{prefix}-{i}-remove" in form
        if removed or not (keep_empty or any(row[k] for k in keys[2:])):
            continue
        if keep_empty and not any(row.values()):
            continue
        out.append(row)
    return out


def policy_data(form: dict[str, Any]) -> dict[str, Any]:
    """The policy's JSON from the form (channel "" means every channel)."""
    caps = [{"purpose": r["purpose"], "channel": r["channel"] or None,
             "window_hours": r["window_hours"], "max": r["max"]}
            for r in rows(form, "caps", CAP_KEYS)]
    quiet = [{"purpose": r["purpose"], "channel": r["channel"] or None, "start": r["start"],
              "end": r["end"]} for r in rows(form, "quiet", QUIET_KEYS)]
    return {"require_advertising_consent": "require_advertising_consent" in form,
            "caps": caps, "quiet_hours": quiet,
            "duplicate_hours": str(form.get("duplicate_hours", "")).strip() or "0"}


def view(policy: MessagingPolicy, form: dict[str, Any] | None) -> dict[str, Any]:
    """What the form shows: the saved policy, or what was posted when it came back."""
    if form is not None:
        return {"require": "require_advertising_consent" in form,
                "caps": rows(form, "caps", CAP_KEYS, keep_empty=True),
                "quiet": rows(form, "quiet", QUIET_KEYS, keep_empty=True),
                "duplicate_hours": str(form.get("duplicate_hours", ""))}
    return {"require": policy.require_advertising_consent,
            "caps": [{"purpose": str(c.purpose), "channel": str(c.channel or ""),
                      "window_hours": str(c.window_hours), "max": str(c.max)}
                     for c in policy.caps],
            "quiet": [{"purpose": str(q.purpose), "channel": str(q.channel or ""),
                       "start": q.start.strftime("%H:%M"), "end": q.end.strftime("%H:%M")}
                      for q in policy.quiet_hours],
            "duplicate_hours": str(policy.duplicate_hours)}


def problems(exc: pydantic.ValidationError, lang: str) -> dict[str, str]:
    """Problems by input; a row's problem is shown on its table (rows were renumbered
    when empty ones were dropped, so an index would point at the wrong row)."""
    out: dict[str, str] = {}
    for where, text in forms.problems(exc, lang).items():
        head = where.split(".")[0]
        out.setdefault(head if head in ("caps", "quiet_hours") else where, text)
    if forms.GENERAL in out:  # the decree-91 floor is about the caps
        out.setdefault("caps", out.pop(forms.GENERAL))
    return out
