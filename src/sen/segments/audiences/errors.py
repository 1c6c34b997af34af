"""The one error audience uploads raise, translated from each provider's error body."""

from __future__ import annotations

from sen.errors import SenError


class AudienceUploadError(SenError):
    """A platform refused an audience upload.

    ``provider`` is ``"meta"`` or ``"google"``, ``status`` the HTTP status (0
    when the request never got an answer), ``code`` the provider's own error
    code (Graph API ``code``/``error_subcode``, or Google Ads ``errorCode``
    such as ``authenticationError.OAUTH_TOKEN_EXPIRED``). ``transient`` says
    whether running the sync again later can succeed without changing anything.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int,
        code: str | None = None,
        hint: str | None = None,
        transient: bool = False,
    ) -> None:
        self.provider = provider
        self.status = status
        self.code = code
        self.transient = transient
        super().__init__(message, hint=hint)
