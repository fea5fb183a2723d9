"""API keys: the pure key functions, and the store's key contract (a real SQLite file)."""

from __future__ import annotations

import pytest

from quotes_db.errors import ConflictError, InvalidQuoteError, NotFoundError
from quotes_db.keys import digest, generate_key, parse_key, verify_secret
from quotes_db.store import QuoteStore

# the pure functions ------------------------------------------------------------------------


def test_a_generated_key_parses_back_and_verifies() -> None:
    key = generate_key()
    assert key.token.startswith(f"qc_{key.key_id}_")
    presented = parse_key(key.token)
    assert presented is not None and presented.key_id == key.key_id
    assert verify_secret(presented.secret, key.salt, key.digest)
    assert len(presented.secret) >= 43  # 32 random bytes, base64url
    assert presented.secret not in key.digest.hex()


def test_keys_differ_and_so_do_their_salts() -> None:
    keys = [generate_key() for _ in range(20)]
    assert len({k.key_id for k in keys}) == len({k.salt for k in keys}) == 20


def test_a_wrong_secret_does_not_verify() -> None:
    key = generate_key()
    presented = parse_key(key.token)
    assert presented is not None
    wrong = presented.secret[:-1] + ("A" if presented.secret[-1] != "A" else "B")
    assert not verify_secret(wrong, key.salt, key.digest)
    # the same secret under another salt gives another digest
    assert digest(presented.secret, b"x" * 16) != key.digest


_GOOD = generate_key().token


@pytest.mark.parametrize(
    "token",
    [
        "",
        "qc_",
        "Bearer " + _GOOD,  # the scheme is the HTTP layer's to strip
        _GOOD + "x",  # a secret one character too long
        _GOOD[:-1],
        _GOOD.replace("qc_", "xx_", 1),
        _GOOD + "\n",
        " " + _GOOD,
        "qc_short_" + "a" * 43,
        "qc_" + "a" * 12 + "_" + "a" * 42 + "\u00e9",  # not ASCII
    ],
)
def test_malformed_tokens_parse_to_none(token: str) -> None:
    assert parse_key(token) is None


# the store contract ------------------------------------------------------------------------


def _add(store: QuoteStore, name: str = "curator", scope: str = "write"):
    key = generate_key()
    return key, store.add_api_key(name, scope, key.key_id, key.salt, key.digest)


def test_add_find_and_list_api_keys(store: QuoteStore) -> None:
    key, added = _add(store)
    assert (added.key_id, added.name, added.scope, added.revoked_at) == (
        key.key_id,
        "curator",
        "write",
        None,
    )
    found = store.find_api_key(key.key_id)
    assert found == (added, key.salt, key.digest)
    _, admin = _add(store, "ops", "admin")
    assert store.list_api_keys() == [added, admin]


def test_find_an_unknown_key_is_none(store: QuoteStore) -> None:
    assert store.find_api_key("nosuchkey123") is None
    assert store.list_api_keys() == []


def test_revoke_marks_the_key_once(store: QuoteStore) -> None:
    key, _ = _add(store)
    revoked = store.revoke_api_key(key.key_id)
    assert revoked.revoked_at is not None and revoked.revoked
    again = store.revoke_api_key(key.key_id)
    assert again.revoked_at == revoked.revoked_at  # the first revocation time stays
    found = store.find_api_key(key.key_id)
    assert found is not None and found[0] == revoked


def test_revoke_an_unknown_key_is_not_found(store: QuoteStore) -> None:
    with pytest.raises(NotFoundError):
        store.revoke_api_key("nosuchkey123")


def test_a_taken_key_id_conflicts(store: QuoteStore) -> None:
    key, _ = _add(store)
    with pytest.raises(ConflictError):
        store.add_api_key("other", "write", key.key_id, b"s" * 16, b"d" * 32)
    assert len(store.list_api_keys()) == 1


@pytest.mark.parametrize(
    ("name", "scope"),
    [
        ("curator", "read"),  # reads need no key, so there is no read scope
        ("curator", "ADMIN"),
        ("   ", "write"),
    ],
)
def test_bad_scope_or_name_is_refused(store: QuoteStore, name: str, scope: str) -> None:
    with pytest.raises(InvalidQuoteError):
        _add(store, name, scope)
    assert store.list_api_keys() == []
