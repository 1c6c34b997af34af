"""Consent to advertising, as the retailer's own data states it (pure, no I/O).

Three places say whether a customer agreed to hear about promotions:

* the POS customer export's "Đồng ý nhận khuyến mãi" column, filled in by the
  cashier when the record was made: "Có", "Không", or blank on records made
  before the till had the box. Loyalty members agree more often (the card
  form has the box ticked by default);
* the web shop's and the app's sign-up form: its boxes arrive as the traits of
  the identify event sent at sign-up, ``consent: {"sms": …, "email": …}`` (the
  email box only when an address was typed; on the app also ``push``, the
  phone's notification permission), with the page, IP and user agent in the
  event's context as the proof;
* the account page, later: an identify whose ``consent`` says no to what she
  granted at sign-up (a few percent of people change their mind).

One hidden willingness per person (ground truth) drives all three, so the
same person tends to say the same thing everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sen.demo import digital as dg
from sen.demo.calendar import Calendar
from sen.demo.people import People
from sen.demo.pos import PosRecords

POS_HEADER = "Đồng ý nhận khuyến mãi"
NO, YES, BLANK = 0, 1, 2
POS_TEXT = ("Không", "Có", "")
BLANK_SHARE = 0.04  # records made before the till asked
MEMBER_LIFT, OTHER_LIFT = 0.17, -0.04  # added to the willingness at the till
SMS_FACTOR, EMAIL_FACTOR = 0.85, 1.1  # people give their inbox more readily than their phone
OPT_OUT_SHARE = 0.15  # of the sign-ups that granted something (2-3% of all people)
SIGNUP_PAGE = {"path": "/dang-ky", "url": "https://velamoc.vn/dang-ky",
               "title": "Đăng ký tài khoản"}
SETTINGS_PAGE = {"path": "/tai-khoan/thong-bao", "url": "https://velamoc.vn/tai-khoan/thong-bao",
                 "title": "Cài đặt nhận tin"}


def willingness(rng: np.random.Generator, n: int) -> np.ndarray:
    """Each person's hidden readiness to receive promotions (mean about 0.55)."""
    return rng.beta(2.2, 1.8, n)


def pos_answers(rng: np.random.Generator, rec: PosRecords, willing: np.ndarray) -> np.ndarray:
    """YES, NO or BLANK per POS record; members agree more often."""
    member = pc.not_equal(rec.loyalty_card, "").to_numpy(zero_copy_only=False)
    p = np.clip(willing[rec.person] + np.where(member, MEMBER_LIFT, OTHER_LIFT), 0.0, 1.0)
    answer = np.where(rng.random(rec.n) < p, YES, NO)
    return np.where(rng.random(rec.n) < BLANK_SHARE, BLANK, answer).astype(np.int8)


def pos_column(answers: np.ndarray) -> pa.Array:
    """The POS export's text for each answer."""
    return pa.array(list(POS_TEXT)).take(pa.array(answers))


@dataclass(frozen=True)
class WebConsent:
    """Per person: the sign-up form's boxes and what the account page later withdrew."""

    device: np.ndarray  # the device she signed up on; -1 without an account
    app: np.ndarray  # signed up in the app (the form also carries push)
    has_email: np.ndarray  # typed an email, so the form asked about email
    sms: np.ndarray
    email: np.ndarray
    push: np.ndarray  # the app's notification permission at sign-up
    revoked_sms: np.ndarray
    revoked_email: np.ndarray

    @property
    def signed_up(self) -> np.ndarray:
        return self.device >= 0

    @property
    def changed(self) -> np.ndarray:
        return self.revoked_sms | self.revoked_email


def web_consent(rng: np.random.Generator, people: People, devices: dg.Devices,
                frame: dg.EventFrame, cal: Calendar, willing: np.ndarray
                ) -> tuple[dg.EventFrame, WebConsent]:
    """Mark each person's first identify as her sign-up, draw its boxes, and add the
    account-page identifies of those who later withdrew (delivered in time order)."""
    n = people.n
    first = _first_identify(frame)
    device = np.full(n, -1)
    device[frame.person[first]] = frame.device[first]
    signed = device >= 0
    app = signed & (devices.platform[np.maximum(device, 0)] >= 2)
    has_email = signed & pc.is_valid(people.email).to_numpy(zero_copy_only=False)
    sms = signed & (rng.random(n) < willing * SMS_FACTOR)
    email = has_email & (rng.random(n) < np.minimum(willing * EMAIL_FACTOR, 1.0))
    leave = (sms | email) & (rng.random(n) < OPT_OUT_SHARE)
    which = rng.random(n)
    wc = WebConsent(device, app, has_email, sms, email,
                    app & devices.push[np.maximum(device, 0)],
                    leave & sms & (~email | (which < 0.75)),
                    leave & email & (~sms | (which >= 0.25)))
    lut = np.zeros(int(frame.message.max()) + 1 if frame.n else 0, dtype=bool)
    lut[frame.message[first]] = True
    marked = _with_form(frame, np.where(lut[frame.message], dg.F_SIGNUP, dg.F_LOGIN))
    start = np.full(n, 0, dtype=np.int64)
    start[frame.person[first]] = frame.true_ms[first]
    return _merge(marked, _settings_events(rng, wc, devices, start, marked, cal)), wc


def _first_identify(frame: dg.EventFrame) -> np.ndarray:
    """Frame index of each person's earliest identify (its first delivered copy)."""
    ident = np.flatnonzero((frame.kind == dg.K_IDENTIFY) & (frame.person >= 0))
    order = ident[np.lexsort((ident, frame.true_ms[ident], frame.person[ident]))]
    if not len(order):
        return order
    return order[np.r_[True, frame.person[order][1:] != frame.person[order][:-1]]]


def _with_form(frame: dg.EventFrame, form: np.ndarray) -> dg.EventFrame:
    fields = {k: getattr(frame, k) for k in frame.__dataclass_fields__}
    return dg.EventFrame(**{**fields, "form": form.astype(np.int8)})


def _settings_events(rng: np.random.Generator, wc: WebConsent, devices: dg.Devices,
                     start_ms: np.ndarray, frame: dg.EventFrame, cal: Calendar
                     ) -> dict[str, np.ndarray]:
    """One account-page identify per person who withdrew, on her sign-up device, at a
    time between a week after signing up and the end of the history."""
    who = np.flatnonzero(wc.changed)
    end_ms = int(cal.local_midnight_utc_s(np.array([cal.days]))[0]) * 1000
    begin = start_ms[who] + 7 * 86_400_000
    keep = begin < end_ms
    who, begin = who[keep], begin[keep]
    k = len(who)
    true_ms = begin + (rng.random(k) * (end_ms - begin)).astype(np.int64)
    device = wc.device[who]
    app = devices.platform[device] >= 2
    delay = np.where(app, rng.integers(1_000, 30_000, k), rng.integers(50, 1_500, k))
    skew = devices.skew_ms[device]
    first_message = int(frame.message.max()) + 1 if frame.n else 0
    return {"kind": np.full(k, dg.K_IDENTIFY), "device": device, "person": who,
            "with_user": np.ones(k, dtype=bool), "sku": np.full(k, -1),
            "order": np.full(k, -1), "page": np.zeros(k, dtype=np.int64),
            "ts_ms": true_ms + skew, "sent_ms": true_ms + delay + skew,
            "received_ms": true_ms + delay + rng.integers(20, 400, k),
            "message": first_message + np.arange(k), "true_ms": true_ms,
            "form": np.full(k, dg.F_SETTINGS, dtype=np.int8)}


def _merge(frame: dg.EventFrame, extra: dict[str, np.ndarray]) -> dg.EventFrame:
    """``frame`` with ``extra`` events slotted in by delivery time."""
    order = np.argsort(extra["received_ms"], kind="stable")
    at = np.searchsorted(frame.received_ms, extra["received_ms"][order], side="right")
    return dg.EventFrame(**{k: np.insert(getattr(frame, k), at, extra[k][order])
                            for k in frame.__dataclass_fields__})


def _flag(values: np.ndarray) -> pa.Array:
    return pa.array(np.where(values, "true", "false"))


def consent_members(wc: WebConsent) -> tuple[pa.Array, pa.Array]:
    """Per person, the ``,"consent":{…}`` traits member of her sign-up identify and of
    her account-page identify."""
    def obj(sms: np.ndarray, email: np.ndarray, push: np.ndarray | None) -> pa.Array:
        email_part = pc.if_else(pa.array(wc.has_email),
                                pc.binary_join_element_wise(',"email":', _flag(email), ""),
                                pa.scalar(""))
        push_part = pa.scalar("") if push is None else pc.if_else(
            pa.array(wc.app), pc.binary_join_element_wise(',"push":', _flag(push), ""),
            pa.scalar(""))
        return pc.binary_join_element_wise(',"consent":{"sms":', _flag(sms), email_part,
                                           push_part, "}", "")

    return (obj(wc.sms, wc.email, wc.push),
            obj(wc.sms & ~wc.revoked_sms, wc.email & ~wc.revoked_email, None))


_TRUTH = pa.schema([("source", pa.string()), ("record", pa.string()), ("person_id", pa.int64()),
                    ("form", pa.string()), ("channel", pa.string()), ("granted", pa.bool_()),
                    ("phone", pa.string()), ("email", pa.string()),
                    ("at", pa.timestamp("ms", tz="UTC")), ("message_id", pa.string()),
                    ("position", pa.int64())])


def pos_truth(rec: PosRecords, answers: np.ndarray) -> pa.Table:
    """What each POS record's column says (``granted`` null when blank); the statement
    is stamped when the file is imported, so ``at`` is empty."""
    n = rec.n
    return pa.table({
        "source": pa.array(["pos_customers.csv"] * n), "record": rec.code,
        "person_id": rec.person, "form": pa.array(["pos_column"] * n),
        "channel": pa.array(["advertising"] * n),
        "granted": pa.array(answers == YES, mask=answers == BLANK),
        "phone": rec.phone, "email": rec.email, "at": pa.nulls(n, pa.timestamp("ms", tz="UTC")),
        "message_id": pa.nulls(n, pa.string()), "position": np.arange(n)}, schema=_TRUTH)


@dataclass(frozen=True)
class EventStrings:
    """The strings the event files show for people and messages (from the render vocab)."""

    user_id: pa.Array  # per person
    phone: pa.Array  # per person, as typed into the form
    email: pa.Array  # per person (null without one)
    message_id: pa.Array  # per message index


def web_truth(frame: dg.EventFrame, wc: WebConsent, devices: dg.Devices,
              strings: EventStrings) -> pa.Table:
    """One row per channel each sign-up and account-page identify states, at the
    first delivery of its messageId, with its line number in its file."""
    app_line = devices.platform[frame.device] >= 2
    position = np.where(app_line, np.cumsum(app_line), np.cumsum(~app_line)) - 1
    idx = np.flatnonzero(frame.form > 0)
    _, first = np.unique(frame.message[idx], return_index=True)
    lines = idx[np.sort(first)]
    p, form = frame.person[lines], frame.form[lines]
    signup = form == dg.F_SIGNUP
    blocks = [("sms", np.ones(len(lines), dtype=bool),
               np.where(signup, wc.sms[p], wc.sms[p] & ~wc.revoked_sms[p])),
              ("email", wc.has_email[p],
               np.where(signup, wc.email[p], wc.email[p] & ~wc.revoked_email[p])),
              ("push", signup & wc.app[p], wc.push[p])]
    parts = []
    for channel, present, granted in blocks:
        at = lines[present]
        who = pa.array(frame.person[at])
        parts.append(pa.table({
            "source": pa.array(np.where(app_line[at], "app_events.ndjson", "web_events.ndjson")),
            "record": strings.user_id.take(who), "person_id": frame.person[at],
            "form": pa.array(np.where(frame.form[at] == dg.F_SIGNUP, "sign_up", "settings")),
            "channel": pa.array([channel] * len(at), pa.string()),
            "granted": granted[present], "phone": strings.phone.take(who),
            "email": strings.email.take(who),
            "at": pa.array(frame.true_ms[at]).cast(pa.timestamp("ms", tz="UTC")),
            "message_id": strings.message_id.take(pa.array(frame.message[at])),
            "position": position[at]}, schema=_TRUTH))
    return pa.concat_tables(parts).sort_by([("source", "ascending"), ("position", "ascending")])
