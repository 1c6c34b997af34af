"""What the audience tests share: SHA-256 computed with hashlib, independently of the
code under test, and a few members with emails and phones."""

from __future__ import annotations

import hashlib

from sen.segments.audiences import Member


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


MEMBERS = [
    Member("p1", "lan.nguyen@gmail.com", "+84912345678"),
    Member("p2", "tran.van.b@yahoo.com.vn", None),
    Member("p3", None, "+84384116370"),
]
