"""Keeping secrets out of every output: which values are secret, and text without them.

Pure: the caller passes the environment in. The GitHub token and the MLflow credentials
(``MLFLOW_TRACKING_PASSWORD``, ``MLFLOW_TRACKING_TOKEN``, a password inside
``MLFLOW_TRACKING_URI``) are scrubbed from error messages and from everything posted to GitHub;
URIs lose their ``user:password@`` before they are printed or linked.
"""

from __future__ import annotations

import base64
import contextlib
import re
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping

from cml_bot.core.errors import CmlBotError

MIN_SECRET = 4  # shorter values are not scrubbed: replacing them would mangle ordinary text

# Variables code from a pull request never sees (training, scoring a model): tokens, the
# runner's own credentials, the action's inputs (its token input among them), and anything
# named like a credential (cloud keys, passwords). A team passes one on with ``train.env``.
_PRIVATE_EXACT = {"GITHUB_TOKEN", "GH_TOKEN", "CML_BOT_GITHUB_TOKEN", "MLFLOW_TRACKING_URI"}
_PRIVATE_PREFIXES = ("ACTIONS_", "INPUT_", "MLFLOW_TRACKING_", "CML_BOT_GITHUB")
_PRIVATE_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "PRIVATE", "API_KEY",
                  "ACCESS_KEY", "SESSION_KEY", "AUTH")  # fmt: skip


def uri_secrets(uri: str | None) -> tuple[str, ...]:
    """The password inside ``scheme://user:password@host`` (as written and decoded)."""
    try:
        password = urllib.parse.urlsplit(uri or "").password
    except ValueError:
        return ()
    return (password, urllib.parse.unquote(password)) if password else ()


# Names whose values are secret wherever they appear (scrubbing; :func:`is_private` is broader:
# it also keeps the action's ordinary inputs and the tracking URI from pull-request code).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_KEY|_KEY$|_KEY_")
_NOT_SECRET = re.compile(r"_(URL|URI)$")  # ACTIONS_ID_TOKEN_REQUEST_URL: an address


def secret_values(env: Mapping[str, str], uris: Iterable[str | None] = ()) -> tuple[str, ...]:
    """Every secret value in ``env`` (and the passwords inside ``uris``, such as a config's
    tracking URI) worth scrubbing, with the forms they take on the wire: URL-encoded, base64,
    base64 of ``x-access-token:<token>`` (git's extraheader) and of basic auth's
    ``user:password``. Longest first (a secret that contains another is replaced whole; ties in
    alphabetical order, so runs repeat)."""
    found = [
        value
        for name, value in env.items()
        if _SECRET_NAME.search(name.upper()) and not _NOT_SECRET.search(name.upper())
    ]
    for uri in (env.get("MLFLOW_TRACKING_URI"), *uris):
        found += uri_secrets(uri)
    found = [v for v in found if v and len(v) >= MIN_SECRET]
    user = env.get("MLFLOW_TRACKING_USERNAME")
    if user and env.get("MLFLOW_TRACKING_PASSWORD"):
        found.append(_b64(f"{user}:{env['MLFLOW_TRACKING_PASSWORD']}"))
    derived = [form for v in found for form in _wire_forms(v)]
    return tuple(sorted({*found, *derived}, key=lambda v: (-len(v), v)))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _wire_forms(value: str) -> list[str]:
    forms = [urllib.parse.quote(value, safe=""), _b64(value), _b64(f"x-access-token:{value}")]
    return [f for f in forms if f != value]


def is_private(name: str) -> bool:
    """Whether an environment variable is kept from code the pull request controls."""
    upper = name.upper()
    return (
        upper in _PRIVATE_EXACT
        or upper.startswith(_PRIVATE_PREFIXES)
        or upper.endswith("_KEY")
        or any(word in upper for word in _PRIVATE_WORDS)
    )


def untrusted_env(env: Mapping[str, str], allow: Iterable[str] = ()) -> dict[str, str]:
    """``env`` for a process that runs pull-request code: every :func:`is_private` variable
    removed, except the ones the team's default-branch config lists in ``allow``."""
    allowed = set(allow)
    return {k: v for k, v in env.items() if k in allowed or not is_private(k)}


def without_credentials(uri: str, *, mask: str = "***@") -> str:
    """``scheme://user:password@host/...`` -> ``scheme://***@host/...`` (for messages); with
    ``mask=""`` the credentials are dropped entirely (for links)."""
    scheme, sep, rest = uri.partition("://")
    host, slash, path = rest.partition("/")
    if not sep or "@" not in host:
        return uri
    return f"{scheme}://{mask}{host.rpartition('@')[2]}{slash}{path}"


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


@contextlib.contextmanager
def scrubbed(secrets: tuple[str, ...]) -> Iterator[None]:
    """Re-raise a CmlBotError with the secrets removed from its message and fix (MLflow's own
    errors quote the tracking URI, credentials included)."""
    try:
        yield
    except CmlBotError as exc:
        exc.message = scrub(exc.message, secrets)
        exc.fix = scrub(exc.fix, secrets) if exc.fix else exc.fix
        exc.args = (exc.message,)
        raise
