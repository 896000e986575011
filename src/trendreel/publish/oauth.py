"""Connecting a platform account from the browser: a provider's OAuth web-server flow.

The workspace sends the admin to `authorization_url(...)` with a `state` it keeps in the session; the
provider sends the browser back to the redirect URI with a code, and `exchange_code(...)` turns it into
the credentials stored (encrypted) with the account. One class per platform, registered under the
registry kind `oauth_flow` by platform name; `trendreel accounts login` (publish/login.py) is the
installed-app variant of the same flow for the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

import httpx

from trendreel.adapters.youtube import SCOPES
from trendreel.publish.errors import CredentialsError
from trendreel.publish.login import read_client_secrets

__all__ = ["OAuthFlow", "YouTubeOAuthFlow"]

TOKEN_TIMEOUT_S = 30.0


class OAuthFlow(Protocol):
    def authorization_url(self, *, redirect_uri: str, state: str) -> str:
        """Where to send the browser to sign in and consent; the provider comes back to `redirect_uri`
        with `state` and a code."""
        ...

    def exchange_code(self, *, code: str, redirect_uri: str) -> dict:
        """The credentials the code is worth (to store with publish.accounts.add_account)."""
        ...


class YouTubeOAuthFlow:
    """Google's OAuth 2.0 web-server flow: offline access (a refresh token) and the consent prompt (so
    Google gives a refresh token again when the account is connected again). The client is the OAuth
    client JSON of publish.youtube_client_secrets (a "web" client whose redirect URIs list the
    workspace's /accounts/callback/youtube)."""

    def __init__(self, app):
        self.settings = app.settings

    def _secrets_path(self) -> Path:
        return Path(self.settings.publish.youtube_client_secrets or self.settings.home / "youtube_client_secret.json")

    def client(self) -> dict:
        """The OAuth client, read each time (a replaced file needs no restart)."""
        path = self._secrets_path()
        if not path.expanduser().is_file():
            raise CredentialsError(
                f"no OAuth client for YouTube: {path} does not exist",
                hint="create an OAuth client of type Web application in the Google Cloud console (APIs & Services > "
                     "Credentials) with this workspace's /accounts/callback/youtube as a redirect URI, download its "
                     "JSON and set publish.youtube_client_secrets to it")
        data = read_client_secrets(path)
        return data.get("web") or data.get("installed")

    def authorization_url(self, *, redirect_uri: str, state: str) -> str:
        client = self.client()
        query = {"response_type": "code", "client_id": client["client_id"], "redirect_uri": redirect_uri,
                 "scope": " ".join(SCOPES), "state": state, "access_type": "offline", "prompt": "consent",
                 "include_granted_scopes": "true"}
        return f"{client['auth_uri']}?{urlencode(query)}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> dict:
        client = self.client()
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": client["client_id"], "client_secret": client["client_secret"]}
        try:
            resp = httpx.post(client["token_uri"], data=form, timeout=TOKEN_TIMEOUT_S,
                              headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise CredentialsError(f"cannot reach Google's token endpoint {client['token_uri']}: {exc}",
                                   retryable=True) from exc
        try:
            answer = resp.json()
        except ValueError:
            answer = {}
        if resp.status_code != 200 or not answer.get("access_token"):
            why = ": ".join(str(answer[k]) for k in ("error", "error_description") if answer.get(k)) or f"HTTP {resp.status_code}"
            raise CredentialsError(f"Google refused the sign-in code: {why}", hint="connect the account again")
        if not answer.get("refresh_token"):
            raise CredentialsError("Google gave no refresh token; remove trendreel's access at "
                                   "https://myaccount.google.com/permissions and connect again")
        scopes = answer.get("scope", "").split() or list(SCOPES)
        return {"type": "authorized_user", "token": answer["access_token"], "refresh_token": answer["refresh_token"],
                "token_uri": client["token_uri"], "client_id": client["client_id"],
                "client_secret": client["client_secret"], "scopes": scopes}
