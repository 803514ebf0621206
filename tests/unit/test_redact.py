"""redact.py: which values are secret, and text and URIs without them."""

from __future__ import annotations

import pytest

from cml_bot.core.errors import CmlBotError
from cml_bot.core.redact import (
    scrub,
    scrubbed,
    secret_values,
    untrusted_env,
    uri_secrets,
    without_credentials,
)


@pytest.mark.parametrize(
    ("uri", "masked", "dropped"),
    [
        (
            "https://u:p%40ss@mlflow.example.com/x",
            "https://***@mlflow.example.com/x",
            "https://mlflow.example.com/x",
        ),
        ("http://token@127.0.0.1:5000", "http://***@127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://a:b@c@host/p@q", "https://***@host/p@q", "https://host/p@q"),
        (
            "https://mlflow.example.com/a@b",
            "https://mlflow.example.com/a@b",
            "https://mlflow.example.com/a@b",
        ),
        ("sqlite:///tmp/x.db", "sqlite:///tmp/x.db", "sqlite:///tmp/x.db"),
        ("databricks", "databricks", "databricks"),
        ("", "", ""),
    ],
)
def test_without_credentials(uri: str, masked: str, dropped: str) -> None:
    assert without_credentials(uri) == masked
    assert without_credentials(uri, mask="") == dropped


def test_uri_secrets_are_the_password_raw_and_decoded() -> None:
    assert uri_secrets("https://u:p%40ss@host") == ("p%40ss", "p@ss")
    assert uri_secrets("https://u@host") == ()
    assert uri_secrets(None) == ()
    assert uri_secrets("http://[::1") == ()  # not a URI: nothing to find, no crash


def test_secret_values_longest_first_and_short_values_ignored() -> None:
    env = {
        "GITHUB_TOKEN": "ghs_abcdef",
        "CML_BOT_GITHUB_TOKEN": "ghs_abcdef_longer",
        "MLFLOW_TRACKING_PASSWORD": "pw",  # too short: scrubbing it would mangle text
        "MLFLOW_TRACKING_TOKEN": "bearer-123",
        "MLFLOW_TRACKING_URI": "https://ci:s3cr%2Ft@host",
        "UNRELATED": "not-a-secret",
    }
    raw = {"ghs_abcdef_longer", "bearer-123", "ghs_abcdef", "s3cr%2Ft", "s3cr/t"}
    values = secret_values(env)
    assert [v for v in values if v in raw] == [
        "ghs_abcdef_longer",
        "bearer-123",  # ties by length in a stable order
        "ghs_abcdef",
        "s3cr%2Ft",
        "s3cr/t",
    ]
    assert "pw" not in values and "not-a-secret" not in values
    assert [len(v) for v in values] == sorted((len(v) for v in values), reverse=True)
    assert values == secret_values(dict(reversed(list(env.items()))))  # the same every run
    assert scrub("ghs_abcdef_longer and ghs_abcdef", secret_values(env)) == "*** and ***"


def test_scrubbed_rewrites_the_message_and_the_fix() -> None:
    with pytest.raises(CmlBotError) as caught, scrubbed(("hunter22",)):
        raise CmlBotError("login hunter22 refused", fix="rotate hunter22")
    assert str(caught.value) == "login *** refused\n  fix: rotate ***"
    assert caught.value.args == ("login *** refused",)


RUNNER_ENV = {
    "PATH": "/usr/bin",
    "HOME": "/home/runner",
    "LANG": "C.UTF-8",
    "GITHUB_REPOSITORY": "octo/models",
    "GITHUB_TOKEN": "ghs_secret",
    "GH_TOKEN": "ghs_secret",
    "INPUT_GITHUB-TOKEN": "ghs_secret",
    "ACTIONS_RUNTIME_TOKEN": "runtime",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions",
    "MLFLOW_TRACKING_URI": "https://u:p@mlflow.example",
    "MLFLOW_TRACKING_PASSWORD": "p",
    "AWS_SECRET_ACCESS_KEY": "aws",
    "AWS_ACCESS_KEY_ID": "AKIA",
    "AZURE_STORAGE_KEY": "az",
    "GOOGLE_APPLICATION_CREDENTIALS": "/creds.json",
    "HF_TOKEN": "hf",
    "OMP_NUM_THREADS": "2",
}


def test_untrusted_env_keeps_what_a_program_needs_and_no_credential() -> None:
    kept = untrusted_env(RUNNER_ENV)
    assert kept == {
        "PATH": "/usr/bin",
        "HOME": "/home/runner",
        "LANG": "C.UTF-8",
        "GITHUB_REPOSITORY": "octo/models",
        "OMP_NUM_THREADS": "2",
    }


def test_untrusted_env_passes_what_the_team_allows() -> None:
    kept = untrusted_env(RUNNER_ENV, allow=["HF_TOKEN"])
    assert kept["HF_TOKEN"] == "hf" and "GITHUB_TOKEN" not in kept


def test_derived_forms_of_a_secret_are_scrubbed_too() -> None:
    """What the token looks like where git and HTTP put it: base64 of `x-access-token:<token>`
    (actions/checkout's extraheader), URL-encoded, and base64 of basic-auth `user:password`."""
    import base64
    from urllib.parse import quote

    token = "ghs_A+b/c=0123456789"
    env = {
        "GITHUB_TOKEN": token,
        "MLFLOW_TRACKING_USERNAME": "ci-bot",
        "MLFLOW_TRACKING_PASSWORD": "hunter2-hunter2",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG",
        "AZURE_STORAGE_KEY": "azure-key-0123",
        "INPUT_CONFIG": "cml-bot.yaml",  # an ordinary input: not a secret
    }
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    auth = base64.b64encode(b"ci-bot:hunter2-hunter2").decode()
    text = (
        f"AUTHORIZATION: basic {basic}; url https://x.example/?t={quote(token, safe='')}; "
        f"Authorization: Basic {auth}; aws wJalrXUtnFEMI/K7MDENG; az azure-key-0123; cml-bot.yaml"
    )
    cleaned = scrub(text, secret_values(env))
    for leaked in (token, basic, quote(token, safe=""), auth, "wJalrXUtnFEMI", "azure-key-0123"):
        assert leaked not in cleaned
    assert cleaned.endswith("cml-bot.yaml")


def test_a_password_in_the_configs_tracking_uri_is_a_secret() -> None:
    secrets = secret_values({}, uris=["https://bot:conf1g-pass@mlflow.internal"])
    assert "conf1g-pass" in secrets
