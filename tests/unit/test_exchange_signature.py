"""The push signature: HMAC-SHA256 over "<timestamp>.<body>", as docs/data-exchange.md tells
receivers to check it (vectors computed with `openssl dgst -sha256 -hmac`)."""
import pytest

from engine.services.exchange import sign, verify

BODY = '{"id":1,"key":"exchange:1"}'.encode()
TIMESTAMP = "1767225600"  # 2026-01-01T00:00:00Z


def test_signature_matches_the_published_vectors():
    assert sign("demo-secret", TIMESTAMP, BODY) == \
        "sha256=5bfd7f3a4c9c39ebc3d6f4c7b0c66cb0a1d339aca348114d15e98e0f229ee002"
    assert sign("密钥-2026", TIMESTAMP, BODY) == \
        "sha256=e7e78384a156c2c47585d7676b463a174e5270a12c6e4cf8b2278fa57b5567d8"


def test_a_fresh_signature_of_the_same_bytes_verifies():
    signature = sign("demo-secret", TIMESTAMP, BODY)
    assert verify("demo-secret", TIMESTAMP, BODY, signature, now=1767225600 + 299)
    assert verify("demo-secret", TIMESTAMP, BODY, signature, now=1767225600 - 299)


@pytest.mark.parametrize(("secret", "timestamp", "body", "now"), [
    ("other-secret", TIMESTAMP, BODY, 1767225600),  # another secret
    ("demo-secret", TIMESTAMP, BODY.replace(b"1", b"2"), 1767225600),  # the body changed
    ("demo-secret", "1767225601", BODY, 1767225600),  # the timestamp changed
    ("demo-secret", TIMESTAMP, BODY, 1767225600 + 301),  # too old: a replay
    ("demo-secret", "not-a-time", BODY, 1767225600),
    ("demo-secret", None, BODY, 1767225600),
    ("", TIMESTAMP, BODY, 1767225600),  # no secret never verifies
])
def test_anything_else_is_refused(secret, timestamp, body, now):
    signature = sign("demo-secret", TIMESTAMP, BODY)
    assert not verify(secret, timestamp, body, signature, now=now)


def test_a_missing_or_malformed_signature_is_refused():
    assert not verify("demo-secret", TIMESTAMP, BODY, None, now=1767225600)
    assert not verify("demo-secret", TIMESTAMP, BODY, "5bfd7f3a4c9c39ebc3d6f4c7b0c66cb0a1d339aca348114d15e98e0f229ee002",
                      now=1767225600)
