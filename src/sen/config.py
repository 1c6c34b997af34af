"""Settings for every part of Sen, from ``SEN_*`` environment variables or ``sen.toml``.

One typed class, so a wrong value fails at start-up with the name of the setting
to change instead of deep inside a request.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict, TomlConfigSettingsSource


class Settings(BaseSettings):
    """Sen's settings. Every field can be set as ``SEN_<NAME>`` or in ``sen.toml``."""

    model_config = SettingsConfigDict(
        env_prefix="SEN_", toml_file="sen.toml", extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        default=Path("sen-data"),
        description="Folder holding the analytical store (DuckDB file), the SQLite "
        "operational store and import quarantine files.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the operational store. Empty means SQLite in "
        "data_dir; use postgresql+psycopg://user:pass@host/db in production.",
    )
    timezone: str = Field(
        default="Asia/Ho_Chi_Minh",
        description="The retailer's time zone: timestamps are stored in UTC and shown here.",
    )
    host: str = Field(default="127.0.0.1", description="Address `sen serve` listens on.")
    port: int = Field(default=8000, description="Port `sen serve` listens on.")
    secret_key: str = Field(
        default="change-me-in-production",
        description="Signs login sessions. Set a long random value in production.",
    )
    default_locale: str = Field(default="vi", description="UI language: `vi` or `en`.")
    flush_interval_ms: float = Field(
        default=10.0,
        description="Longest time the event writer waits to group requests into one commit.",
    )
    flush_max_events: int = Field(
        default=20_000, description="Most events the event writer commits at once."
    )
    identity_interval_s: float = Field(
        default=5.0, ge=0.0,
        description="Seconds between identity updates in `sen serve` (0 turns them off; "
        "`POST /api/identity/update` still runs one).",
    )
    traits_interval_s: float = Field(
        default=60.0, ge=0.0,
        description="Seconds between trait updates of changed profiles in `sen serve` "
        "(0 turns them off; `POST /api/traits/update` still runs one).",
    )
    profile_events_interval_s: float = Field(
        default=60.0, ge=0.0,
        description="Seconds between updates of the events-by-profile table segments read "
        "(0 turns them off). An update that follows merges rewrites the moved records' "
        "events, seconds at 50M events, so it runs less often than identity.",
    )
    segments_interval_s: float = Field(
        default=60.0, ge=0.0,
        description="Seconds between checks for saved segments due a refresh (each segment "
        "sets how often it refreshes; 0 turns the checks off).",
    )
    audience_sync_interval_s: float = Field(
        default=60.0, ge=0.0,
        description="Seconds between checks for audience links whose segment has run since "
        "they last synced, or whose last attempt failed (0 turns the checks off).",
    )
    meta_access_token: str = Field(
        default="", description="Meta Marketing API token (a system user's, with "
        "ads_management) for syncing segments to Custom Audiences.",
    )
    meta_graph_url: str = Field(
        default="https://graph.facebook.com", description="Meta Graph API address.",
    )
    meta_api_version: str = Field(default="v25.0", description="Meta Graph API version.")
    google_ads_customer_id: str = Field(
        default="", description="Google Ads account (customer id, 123-456-7890) holding the "
        "Customer Match user lists.",
    )
    google_ads_login_customer_id: str = Field(
        default="", description="Manager account id, when access goes through one.",
    )
    google_ads_developer_token: str = Field(default="", description="Google Ads developer token.")
    google_ads_access_token: str = Field(
        default="", description="OAuth access token for the Google Ads API, used as given "
        "(it lasts about an hour); a server sets the refresh token below instead.",
    )
    google_ads_client_id: str = Field(
        default="", description="OAuth client id the refresh token was issued to.",
    )
    google_ads_client_secret: str = Field(default="", description="That OAuth client's secret.")
    google_ads_refresh_token: str = Field(
        default="", description="OAuth refresh token for the adwords scope: Sen renews access "
        "tokens with it before they expire.",
    )
    google_oauth_token_url: str = Field(
        default="https://oauth2.googleapis.com/token",
        description="Google's OAuth token endpoint.",
    )
    google_ads_url: str = Field(
        default="https://googleads.googleapis.com", description="Google Ads API address.",
    )
    google_ads_api_version: str = Field(default="v26", description="Google Ads API version.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Address customers and shops reach Sen at: tracked links, unsubscribe "
        "links, provider webhooks and the web snippet are built on it.",
    )
    link_base_url: str = Field(
        default="", description="A shorter address for tracked links in SMS (e.g. "
        "https://s.shop.vn) that forwards /l/ and /u/ to Sen; empty means public_url.",
    )
    encryption_key: str = Field(
        default="", description="Key that seals provider secrets in the operational store "
        "(Fernet). Empty means a key file written once into data_dir; set it when several "
        "processes or machines share the operational store.",
    )
    dispatch_interval_s: float = Field(
        default=0.5, ge=0.0,
        description="Seconds the dispatcher waits when the outbox has nothing due (0 turns "
        "dispatch off in `sen serve`; `sen messaging dispatch` runs it on its own).",
    )
    relay_interval_s: float = Field(
        default=0.5, ge=0.0,
        description="Seconds between moves of messaging, consent and coupon events from the "
        "operational store into the event log (0 turns the relay off).",
    )
    traits_refresh_interval_s: float = Field(
        default=86_400.0, gt=0.0,
        description="Seconds between full trait refreshes (everyone moves one day on, the "
        "models are refitted); the update that comes due after this long runs one.",
    )

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,  # noqa: D102
                                   dotenv_settings, file_secret_settings):
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @cached_property
    def analytics_path(self) -> Path:
        """The DuckDB file of the analytical store."""
        return self.data_dir / "sen.duckdb"

    @cached_property
    def operational_url(self) -> str:
        """The operational store URL, SQLite in ``data_dir`` unless configured."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'sen.sqlite').resolve()}"

    @cached_property
    def quarantine_dir(self) -> Path:
        """Where file imports write the rows they rejected, with reasons."""
        return self.data_dir / "quarantine"

    @cached_property
    def tz(self) -> ZoneInfo:
        """The retailer's time zone."""
        return ZoneInfo(self.timezone)


def get_settings(**overrides: object) -> Settings:
    """Settings from the environment and ``sen.toml``, with ``overrides`` on top."""
    return Settings(**overrides)  # type: ignore[arg-type]
