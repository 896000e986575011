"""`trendreel accounts login youtube NAME`: Google's OAuth flow for a person, in their browser.

google-auth-oauthlib's InstalledAppFlow with a one-shot local server on 127.0.0.1 receives the
authorization code; the resulting authorized-user credentials are stored encrypted like
`accounts add --credentials`.
"""

from __future__ import annotations

import json
from pathlib import Path

from trendreel.adapters.youtube import SCOPES
from trendreel.publish import accounts
from trendreel.publish.errors import CredentialsError


def read_client_secrets(path: Path) -> dict:
    """The OAuth client JSON (an 'installed' or 'web' client), checked before a browser opens."""
    path = Path(path).expanduser()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CredentialsError(f"client secrets file {path} does not exist; download the OAuth client JSON "
                               "(type Desktop app) from the Google Cloud console, APIs & Services > Credentials") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CredentialsError(f"client secrets file {path} is not JSON ({type(exc).__name__}); download the OAuth "
                               "client JSON (type Desktop app) from the Google Cloud console") from exc
    client = data.get("installed") or data.get("web") if isinstance(data, dict) else None
    if not isinstance(client, dict):
        raise CredentialsError(f"client secrets file {path} has no 'installed' (Desktop app) client; create an OAuth "
                               "client of type Desktop app and download its JSON")
    missing = [k for k in ("client_id", "client_secret", "auth_uri", "token_uri") if not client.get(k)]
    if missing:
        raise CredentialsError(f"client secrets file {path} lacks {', '.join(missing)}; download it again from the "
                               "Google Cloud console")
    return data


def login_youtube(app, *, name: str, client_secrets: Path, port: int = 0, open_browser: bool = True,
                  on_url=None) -> dict:
    """Run the OAuth flow and store the account; the account as a dict (never its tokens)."""
    config = read_client_secrets(client_secrets)
    from google_auth_oauthlib.flow import InstalledAppFlow

    flow = InstalledAppFlow.from_client_config(config, scopes=SCOPES)
    message = "Open this URL to sign in: {url}"
    if on_url is not None:
        message = ""
        original = flow.authorization_url

        def authorization_url(**kwargs):
            url, state = original(**kwargs)
            on_url(url)
            return url, state

        flow.authorization_url = authorization_url
    try:
        creds = flow.run_local_server(host="127.0.0.1", port=port, open_browser=open_browser,
                                      authorization_prompt_message=message, access_type="offline", prompt="consent")
    except Exception as exc:  # oauthlib's errors (access denied, mismatched state) carry the reason
        raise CredentialsError(f"sign-in failed: {exc}") from exc
    info = json.loads(creds.to_json())
    if not info.get("refresh_token"):
        raise CredentialsError("Google gave no refresh token; remove trendreel's access at "
                               "https://myaccount.google.com/permissions and sign in again")
    return accounts.add_account(app, platform="youtube", name=name, credentials={"type": "authorized_user", **info})
