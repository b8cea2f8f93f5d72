from __future__ import annotations

import pytest

from self_healing_service.reasoning.redaction import MAX_INPUT_CHARS, REDACTED, TRUNCATED, scrub, scrub_image


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer abcdef123456.ghijkl", "abcdef123456.ghijkl"),
        ("auth header was 'Basic dXNlcjpwYXNzd29yZA=='", "dXNlcjpwYXNzd29yZA=="),
        ("login with password=Sup3rS3cret!", "Sup3rS3cret!"),
        ('config {"api_key": "k-123-456-789"}', "k-123-456-789"),
        ("DB_PASSWORD: letmein99", "letmein99"),
        ("client_secret=abc.def.ghi", "abc.def.ghi"),
        ("dial postgres://app:pa55@db:5432/shop failed", "pa55"),
        ("redis connect rediss://default:hunter22@cache.internal:6380", "hunter22"),
        ("GET https://user:s3cr3t@example.com/path", "s3cr3t"),
        ("curl -u admin:Tr0ub4dor&3 http://localhost/warm", "Tr0ub4dor&3"),
        ("token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig-part", "eyJhbGciOiJIUzI1NiJ9"),
        ("aws key AKIAIOSFODNN7EXAMPLE in use", "AKIAIOSFODNN7EXAMPLE"),
        ("google key AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
        ("slack xoxb-123456789012-abcdefghijkl", "xoxb-123456789012-abcdefghijkl"),
        ("github ghp_abcdefghijklmnopqrstuvwxyz0123456789", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("oauth ya29.a0AfH6SMBx-very-long-token", "ya29.a0AfH6SMBx-very-long-token"),
        ("payload U2VjcmV0UGF5bG9hZDEyMzQ1Njc4OTBhYmNkZWZnaGlqa2xtbm9w end", "U2VjcmV0UGF5bG9hZDEy"),
        ("sig 3f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e7b9d1f3a", "3f7a9c2e4b6d8f0a1c3e5b7d9f1a3c5e"),
        ("key=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----", "MIIEvQIBADANBg"),
    ],
)
def test_secret_looking_text_is_redacted(text: str, secret: str) -> None:
    out = scrub(text)
    assert secret not in out
    assert REDACTED in out


def test_known_secret_values_are_redacted_anywhere() -> None:
    out = scrub("db password is hunter2-x and again hunter2-x.", known_secrets=["hunter2-x"])
    assert "hunter2" not in out
    assert out.count(REDACTED) == 2


@pytest.mark.parametrize(
    "text",
    [
        "Back-off restarting failed container checkout in pod checkout-service-canary-7d9f8c6b5-x2x4z",
        "java.lang.OutOfMemoryError: Java heap space",
        "MountVolume.SetUp failed for /var/lib/kubelet/pods/0d2f6a1e-7b3c-4e5f-9a8b-1c2d3e4f5a6b/volumes",
        "Liveness probe failed: HTTP probe failed with statuscode: 503",
        "Container image europe-docker.pkg.dev/acme/shop/checkout:1.5.0 already present on machine",
        "0/3 nodes are available: 3 Insufficient memory.",
    ],
)
def test_ordinary_diagnostics_are_kept(text: str) -> None:
    assert scrub(text) == text


def test_images_keep_tags_and_digests_but_lose_registry_credentials() -> None:
    digest = "gcr.io/acme/app@sha256:" + "a" * 64
    assert scrub_image(digest) == digest
    assert "pw" not in scrub_image("https://user:pw@registry.example.com/app:1")


def test_long_input_is_capped_at_a_token_boundary() -> None:
    secret = "Zq9xW3vB7nM2kL5pR8tY"  # not secret-shaped on its own: only the cap protects it
    text = "w " * ((MAX_INPUT_CHARS - 10) // 2) + secret + " tail"
    out = scrub(text)
    assert len(out) <= MAX_INPUT_CHARS
    assert out.endswith(TRUNCATED)
    assert "Zq9x" not in out  # no half token is left behind
    assert scrub("x" * (MAX_INPUT_CHARS + 1)) == TRUNCATED
