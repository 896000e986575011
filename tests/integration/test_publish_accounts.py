"""Accounts through the CLI: credentials validated, encrypted at rest, never printed or logged; removal
keeps publications; the OAuth login refuses a bad client secrets file clearly."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from typer.testing import CliRunner

from trendreel.bootstrap import App
from trendreel.cli import app as cli_app
from trendreel.db.tables import Account
from trendreel.files.store import open_file_store
from trendreel.services import publishing as service
from trendreel.publish.accounts import load_credentials
from trendreel.publish.errors import CredentialsError

SECRET_BITS = ("ya29.very-secret-access-token", "1//refresh-secret-value", "GOCSPX-client-secret-value")


def authorized_user(**drop) -> dict:
    data = {"type": "authorized_user", "token": SECRET_BITS[0], "refresh_token": SECRET_BITS[1],
            "client_id": "42-abc.apps.googleusercontent.com", "client_secret": SECRET_BITS[2],
            "token_uri": "https://oauth2.googleapis.com/token"}
    for k in drop:
        data.pop(k)
    return data


@pytest.fixture
def app(database, make_settings):
    settings = make_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    application = App(settings=settings, db=database, files=open_file_store(settings.files_url))
    yield application
    application.close()


def test_credentials_are_encrypted_at_rest_and_never_shown(app, tmp_path):
    cred = tmp_path / "cred.json"
    cred.write_text(json.dumps(authorized_user()), encoding="utf-8")
    row = service.add_account(app, platform="youtube", name="main", credentials_file=cred)
    assert row["has_credentials"] and not any(b in json.dumps(row) for b in SECRET_BITS)
    with app.db.engine.connect() as conn:
        raw = conn.execute(text("SELECT credentials FROM account")).scalar_one()
    assert raw and not any(b in raw for b in SECRET_BITS)
    assert load_credentials(app, row["id"])["refresh_token"] == SECRET_BITS[1]
    key = app.settings.home / "secret.key"
    assert key.stat().st_mode & 0o777 == 0o600

    # Another key cannot read them: a clear error, not garbage.
    other = App(settings=app.settings.model_copy(update={"publish": app.settings.publish.model_copy(
        update={"secret_key_file": tmp_path / "other.key"})}), db=app.db, files=app.files)
    (tmp_path / "other.key").write_bytes(Fernet.generate_key())
    with pytest.raises(CredentialsError, match="secret key is not the one"):
        load_credentials(other, row["id"])


def test_missing_fields_are_named(app, tmp_path):
    cred = tmp_path / "cred.json"
    cred.write_text(json.dumps(authorized_user(refresh_token=1, token_uri=1)), encoding="utf-8")
    with pytest.raises(CredentialsError, match="lacks refresh_token, token_uri"):
        service.add_account(app, platform="youtube", name="main", credentials_file=cred)
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CredentialsError, match="is not JSON"):
        service.add_account(app, platform="youtube", name="main", credentials_file=tmp_path / "bad.json")


def test_cli_accounts_add_list_remove_login(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("TRENDREEL_LOG_LEVEL", "DEBUG")  # even debug logs must not carry a credential
    cred = tmp_path / "cred.json"
    cred.write_text(json.dumps(authorized_user()), encoding="utf-8")
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli_app, [*args, "--home", str(home)])
        text_out = result.output + (result.stderr if result.stderr_bytes is not None else "")
        assert not any(b in text_out for b in SECRET_BITS), text_out
        return result

    r = run("accounts", "add", "youtube", "main", "--credentials", str(cred), "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["has_credentials"] is True
    outside = run("accounts", "add", "folder", "inbox", "--path", str(tmp_path / "inbox"))
    assert outside.exit_code != 0 and "publish.folder_roots" in outside.output + str(outside.exception)  # outside <home>/published
    assert run("accounts", "add", "folder", "inbox", "--path", str(home / "published" / "inbox")).exit_code == 0
    listed = json.loads(run("accounts", "list", "--json").stdout)
    assert {(a["platform"], a["name"]) for a in listed} == {("youtube", "main"), ("folder", "inbox")}
    assert "encrypted" in run("accounts", "list").stdout

    r = run("accounts", "remove", "youtube", "main")
    assert r.exit_code == 0
    listed = json.loads(run("accounts", "list", "--json").stdout)
    assert [a["name"] for a in listed] == ["inbox"]
    removed = json.loads(run("accounts", "list", "--removed", "--json").stdout)
    gone = next(a for a in removed if a["name"] == "main")
    assert gone["removed_at"] and gone["has_credentials"] is False

    secrets_file = tmp_path / "client.json"
    secrets_file.write_text(json.dumps({"installed": {"client_id": "x"}}), encoding="utf-8")
    r = run("accounts", "login", "youtube", "main", "--client-secrets", str(secrets_file), "--no-browser")
    assert isinstance(r.exception, CredentialsError)
    assert "lacks client_secret, auth_uri, token_uri" in str(r.exception)

    from trendreel.bootstrap import build_app
    from trendreel.settings import Settings

    application = build_app(Settings(home=home))
    with application.db.session() as s:
        rows = s.scalars(select(Account)).all()
        assert all(not r.credentials or not any(b in r.credentials for b in SECRET_BITS) for r in rows)
    application.close()
