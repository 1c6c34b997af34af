"""The messaging policy and the advertising texts, on the Channels page.

The policy form (rows read by :mod:`sen.web.pages.policy_form`) holds the caps,
quiet hours, the consent rule and the duplicate window. Turning off
"recorded consent for advertising" is what decree 91/2020 warns against, so
the first post that does it comes back with the warning and a confirm button;
only the confirmed post saves it.
"""

from __future__ import annotations

from typing import Annotated

import pydantic
from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from sen.errors import ValidationError
from sen.messaging import settings as msettings
from sen.messaging import templates
from sen.messaging.policy import MessagingPolicy
from sen.messaging.render import RenderSettings
from sen.web.auth import require_role
from sen.web.pages import forms, policy_form
from sen.web.pages.channels import FLASH, channels_page
from sen.web.ui import locale_of, mark_ui
from sen.web.users import User

router = APIRouter(dependencies=[Depends(mark_ui)], include_in_schema=False)
Admin = Annotated[User, Depends(require_role("admin"))]


@router.post("/channels/policy")
async def save_policy(request: Request, user: Admin) -> Response:
    form = dict(await request.form())
    m = request.app.state.messaging
    lang = locale_of(request, user)
    data = policy_form.policy_data(form)
    try:
        policy = MessagingPolicy.model_validate(data)
    except pydantic.ValidationError as exc:
        return channels_page(request, user, status=400, policy_form=form,
                             policy_problems=policy_form.problems(exc, lang))
    current = msettings.policy(m.ops)
    turning_off = current.require_advertising_consent and not policy.require_advertising_consent
    if turning_off and form.get("confirm_no_consent") != "yes":
        return channels_page(request, user, confirm_consent_off=True, policy_form=form)
    msettings.save_policy(m.ops, policy.model_dump(mode="json"), now=m.now(),
                          actor=user.username)
    request.session[FLASH] = {"key": "policy.saved", "params": {}}
    return RedirectResponse("/channels#policy", status_code=303)


@router.post("/channels/texts")
async def save_texts(request: Request, user: Admin) -> Response:
    """The advertising label and the SMS opt-out text."""
    form = dict(await request.form())
    lang = locale_of(request, user)
    data = {"advertising_label": str(form.get("advertising_label", "")),
            "sms_opt_out": str(form.get("sms_opt_out", "")).strip()}
    try:
        RenderSettings.model_validate(data)
        templates.save_render_settings(request.app.state.ops, data, actor=user.username)
    except pydantic.ValidationError as exc:
        return channels_page(request, user, status=400, texts_problems=forms.problems(exc, lang),
                             texts_form=data)
    except ValidationError as exc:
        return channels_page(request, user, status=400,
                             texts_problems={exc.field or "sms_opt_out": exc.message},
                             texts_form=data)
    request.session[FLASH] = {"key": "texts.saved", "params": {}}
    return RedirectResponse("/channels#texts", status_code=303)
