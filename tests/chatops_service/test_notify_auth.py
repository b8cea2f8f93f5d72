"""/notify accepts only a Google ID token whose email is the healer's service account."""

from __future__ import annotations

import time

import pytest

DATA_ACTED = "notification_acted_high_cpu.json"


def test_valid_token_is_accepted(harness, load) -> None:
    assert harness.notify(load(DATA_ACTED)).status_code == 200


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"aud": "https://someone-else.run.app"}, "invalid ID token"),
        ({"email": "intruder@evil-project.iam.gserviceaccount.com"}, "not an allowed healer service account"),
        ({"email_verified": False}, "email is not verified"),
        ({"iss": "https://evil.example.com"}, "issuer"),
        ({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, "invalid ID token"),
        ({"email": None}, "(no email)"),
    ],
)
def test_bad_tokens_get_401(harness, load, overrides, expected) -> None:
    resp = harness.notify(load(DATA_ACTED), token=harness.issuer.token(**overrides))
    assert resp.status_code == 401
    assert expected in resp.get_json()["error"]
    assert harness.chat.requests == []


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c"])
def test_missing_or_malformed_authorization_gets_401(harness, load, header) -> None:
    headers = {} if header is None else {"Authorization": header}
    resp = harness.client.post("/notify", json=load(DATA_ACTED), headers=headers)
    assert resp.status_code == 401
    assert harness.chat.requests == []


def test_token_signed_by_another_key_gets_401(harness, load) -> None:
    token = harness.issuer.token()
    header, payload, signature = token.split(".")
    forged = ".".join((header, payload, signature[::-1]))
    assert harness.notify(load(DATA_ACTED), token=forged).status_code == 401


def test_auth_can_be_switched_off_for_local_runs_and_says_so(make_harness, load, caplog) -> None:
    harness = make_harness(CHATOPS_AUTH_DISABLED="true", CHATOPS_NOTIFY_AUDIENCE="", CHATOPS_HEALER_SERVICE_ACCOUNTS="")
    assert any(r.levelname == "CRITICAL" and "CHATOPS_AUTH_DISABLED" in r.getMessage() for r in caplog.records)
    resp = harness.client.post("/notify", json=load(DATA_ACTED))
    assert resp.status_code == 200


def test_route_groups_select_what_an_instance_serves(make_harness, load, sign) -> None:
    public = make_harness(CHATOPS_ROUTES="interactions")
    assert public.client.post("/notify", json=load(DATA_ACTED)).status_code == 404
    body = b"payload=%7B%7D"
    assert public.client.post("/slack/interactions", data=body, headers=sign(body)).status_code == 400
    private = make_harness(CHATOPS_ROUTES="notify")
    assert private.client.post("/slack/interactions", data=body, headers=sign(body)).status_code == 404
    assert private.client.get("/teams/actions/abc").status_code == 404
    assert private.notify(load(DATA_ACTED)).status_code == 200
    assert private.client.get("/healthz").get_json() == {"ok": True, "routes": "notify"}


def test_unreachable_certificate_endpoint_is_503_not_401(make_harness, load, unreachable_url) -> None:
    harness = make_harness(CHATOPS_OIDC_CERTS_URL=unreachable_url)
    resp = harness.notify(load(DATA_ACTED))
    assert resp.status_code == 503  # the healer retries; its token was not judged
    assert "certificates" in resp.get_json()["error"]
    assert harness.chat.requests == []
