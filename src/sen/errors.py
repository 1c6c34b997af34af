"""One error tree for all of Sen.

Every error a user can meet derives from :class:`SenError` and its message says
what to do about it. Errors are *transient* (try again later: a locked store, a
provider's 429) or *terminal* (fix the input or the settings first); callers
that retry look only at :attr:`SenError.transient`.

::

    SenError
    ├── ConfigError            settings are missing or contradict each other
    ├── StoreError             an engine failed; the failing SQL is attached
    │   └── StoreLockedError   another process holds the analytical store (transient)
    ├── ValidationError        an input broke a rule; names the field and the rule
    │   └── PayloadTooLargeError
    ├── AuthError              unknown write key, bad password or token
    │   └── PermissionDeniedError
    ├── ImportError_           a file could not be imported at all
    ├── NotFoundError
    ├── ConflictError          the action clashes with the state (a coupon already redeemed)
    └── ProviderError          a messaging provider refused or failed (transient or not)
"""

from __future__ import annotations


class SenError(Exception):
    """Base of every error Sen raises on purpose."""

    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} {hint}" if hint else message)


class ConfigError(SenError):
    """Settings are missing or contradict each other."""


class StoreError(SenError):
    """An engine failed; ``sql`` holds the statement that failed, if any."""

    def __init__(self, message: str, *, sql: str | None = None, hint: str | None = None) -> None:
        self.sql = sql
        super().__init__(message, hint=hint)


class StoreLockedError(StoreError):
    """Another process (usually ``sen serve``) holds the analytical store."""

    transient = True


class ValidationError(SenError):
    """An input broke a rule. ``field`` is a dotted path, ``rule`` names the rule."""

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None) -> None:
        self.field = field
        self.rule = rule
        super().__init__(message)


class PayloadTooLargeError(ValidationError):
    """A request or event is over its size limit."""


class AuthError(SenError):
    """The caller could not be identified: unknown write key, password or token."""


class PermissionDeniedError(AuthError):
    """The caller is known but their role does not allow the action."""


class ImportError_(SenError):  # noqa: N801 - the builtin name is taken
    """A file could not be imported at all (unreadable, unknown format, bad mapping)."""


class NotFoundError(SenError):
    """The thing asked for does not exist."""


class ConflictError(SenError):
    """The action clashes with what is already there (a coupon already redeemed, a
    campaign already launched). ``details`` says what is there, for the caller."""

    def __init__(self, message: str, *, hint: str | None = None,
                 details: dict | None = None) -> None:
        self.details = details or {}
        super().__init__(message, hint=hint)


class ProviderError(SenError):
    """A messaging provider refused a message or could not be reached.

    ``provider`` names it (``esms``, ``zalo``, ``smtp``…), ``code`` is the
    provider's own code (eSMS ``CodeResult``, Zalo ``error``, an SMTP reply
    code, an HTTP status). ``transient`` errors (timeouts, 429, 5xx, an expired
    token that was renewed) are retried by the dispatcher with backoff, after
    ``retry_after`` seconds when the provider said. ``recipient`` errors are
    about this one address (an invalid number, no Zalo account, a blocked
    user): the address is marked unreachable and the campaign's fallback
    channel is tried; other terminal errors (a wrong API key, an unregistered
    brandname) fail the message and say which setting to fix.
    """

    def __init__(self, message: str, *, provider: str, code: str | None = None,
                 transient: bool = False, recipient: bool = False,
                 retry_after: float | None = None, hint: str | None = None) -> None:
        self.provider = provider
        self.code = code
        self.transient = transient
        self.recipient = recipient
        self.retry_after = retry_after
        super().__init__(message, hint=hint)
