"""The token store on SQLite and PostgreSQL: sealed values, compare-and-swap saves,
and two processes renewing one single-use refresh token at the same time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from sen.demo.sandbox import ZaloSandbox, serve_in_thread
from sen.errors import ConfigError
from sen.messaging.providers import wire, zalo_oauth
from sen.messaging.providers.tokens import (
    MemoryTokenStore,
    ProviderTokens,
    TokenPair,
    fingerprint,
    utcnow,
)
from sen.messaging.providers.zalo import ZaloConfig, ZaloProvider, ZaloSecrets
from sen.store import operational
from sen.store.secrets import SecretBox
from tests.messaging.providers.support import message
from tests.messaging.providers.test_zalo import DATA

KEY = Fernet.generate_key()
SOON = datetime(2030, 1, 1)


@pytest.fixture
def zalo_box() -> Iterator[tuple[ZaloSandbox, str]]:
    box = ZaloSandbox()
    with serve_in_thread(box.app()) as url:
        yield box, url
    box.close()


def store(engine: sa.Engine) -> ProviderTokens:
    return ProviderTokens(engine, SecretBox(KEY))


def test_pairs_are_stored_sealed_and_read_back(ops) -> None:
    tokens = store(ops)
    pair = TokenPair("access-1", "refresh-1", SOON, ("seed",))
    assert tokens.load("zalo") is None
    assert tokens.save("zalo", pair, replaces=None)
    assert tokens.load("zalo") == pair
    with ops.connect() as con:
        raw = con.execute(sa.select(operational.provider_tokens)).one()
    assert "access-1" not in raw.access_token and "refresh-1" not in raw.refresh_token


def test_a_save_only_replaces_the_refresh_token_it_names(ops) -> None:
    tokens = store(ops)
    first, second = TokenPair("a1", "r1", SOON), TokenPair("a2", "r2", SOON)
    assert tokens.save("zalo", first, replaces=None)
    assert not tokens.save("zalo", second, replaces=None)  # a pair is already there
    assert not tokens.save("zalo", second, replaces="r0")
    assert tokens.save("zalo", second, replaces="r1")
    assert tokens.load("zalo") == second


def test_renew_refreshes_only_a_stale_pair(ops) -> None:
    tokens = store(ops)
    tokens.save("zalo", TokenPair("a1", "r1", SOON, ("s",)), replaces=None)
    calls: list[str] = []

    def refresh(current: TokenPair) -> TokenPair:
        calls.append(current.refresh_token)
        return TokenPair("a2", "r2", SOON)

    renewed = tokens.renew("zalo", "a1", refresh)
    assert renewed == TokenPair("a2", "r2", SOON, ("s",)) == tokens.load("zalo")
    assert tokens.renew("zalo", "a1", refresh) == renewed  # already renewed elsewhere
    assert calls == ["r1"]
    with pytest.raises(ConfigError):
        tokens.renew("other", "a1", refresh)


def test_a_failed_refresh_keeps_the_stored_pair(ops) -> None:
    tokens = store(ops)
    pair = TokenPair("a1", "r1", SOON)
    tokens.save("zalo", pair, replaces=None)

    def refuse(_: TokenPair) -> TokenPair:
        raise RuntimeError("zalo refused")

    with pytest.raises(RuntimeError):
        tokens.renew("zalo", "a1", refuse)
    assert tokens.load("zalo") == pair


def test_two_processes_renewing_at_once_use_the_refresh_token_once(ops, ops_url,
                                                                  zalo_box) -> None:
    box, url = zalo_box
    access, refresh = box.issue_tokens()
    other = operational.connect(ops_url, migrate=False)
    stores = [store(ops), store(other)]
    stores[0].save("zalo", TokenPair(access, refresh, utcnow()), replaces=None)
    config = ZaloConfig(app_id=box.app_id, oauth_base_url=url)
    secrets = ZaloSecrets(app_secret=box.app_secret, oa_secret_key="k", refresh_token=refresh)
    start = threading.Barrier(2)
    results: list[TokenPair] = []

    def renew(tokens: ProviderTokens) -> None:
        client = wire.make_client(5)

        def slow_refresh(current: TokenPair) -> TokenPair:
            new = zalo_oauth.refresh(client, config, secrets, current, utcnow())
            time.sleep(0.3)  # the other process is waiting on the lock meanwhile
            return new

        start.wait()
        results.append(tokens.renew("zalo", access, slow_refresh))
        client.close()

    threads = [threading.Thread(target=renew, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    other.dispose()
    assert len(results) == 2 and results[0] == results[1] == stores[0].load("zalo")
    assert box.refreshes == 1 and results[0].access_token in box.access_tokens


def test_two_zalo_senders_with_an_expired_token_refresh_once(ops, ops_url, zalo_box) -> None:
    box, url = zalo_box
    access, refresh = box.issue_tokens()
    secrets = ZaloSecrets(app_secret=box.app_secret, oa_secret_key="k", refresh_token=refresh,
                          access_token=access)
    config = ZaloConfig(app_id=box.app_id, base_url=url, oauth_base_url=url)
    other = operational.connect(ops_url, migrate=False)
    senders = [ZaloProvider("zalo-oa", config, secrets, tokens=store(e)) for e in (ops, other)]
    senders[0].current_tokens()
    box.expire_tokens()
    errors: list[Exception] = []
    start = threading.Barrier(2)

    def send(sender: ZaloProvider, i: int) -> None:
        start.wait()
        try:
            sender.send(message(f"k{i}", f"+8491234567{i}", "", data=DATA))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(s, i)) for i, s in enumerate(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    other.dispose()
    assert errors == [] and box.refreshes == 1 and len(box.messages()) == 2


def test_a_newly_entered_refresh_token_restarts_the_chain_an_old_one_does_not() -> None:
    tokens = MemoryTokenStore()
    old = TokenPair("a2", "r2", SOON, (fingerprint("r1"),))  # descended from r1
    tokens.save("zalo", old, replaces=None)
    config = ZaloConfig(app_id="1")

    def sender(refresh_token: str) -> ZaloProvider:
        secrets = ZaloSecrets(app_secret="s", oa_secret_key="k", refresh_token=refresh_token,
                              access_token="given")
        return ZaloProvider("zalo", config, secrets, tokens=tokens)

    assert sender("r1").current_tokens() == old  # a process with stale secrets
    fresh = sender("r9").current_tokens()
    assert (fresh.access_token, fresh.refresh_token) == ("given", "r9")
    assert fresh.seeds == (fingerprint("r1"), fingerprint("r9"))
    assert fresh.expires_at - utcnow() <= timedelta(hours=1)
