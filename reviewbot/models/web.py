"""Sign-in to the web console: passwords an admin set (stored only as scrypt hashes) and one-time sign-in links
(stored only as SHA-256 of the link's token). Kept in the database so every replica of the console agrees."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from reviewbot.models.base import utcnow


class WebCredential(SQLModel, table=True):
    """A person's web console password, as a salted scrypt hash (never the password)."""

    __tablename__ = "web_credential"

    person: str = Field(primary_key=True, max_length=200)
    password_hash: str = Field(max_length=400)
    set_by: str = Field(max_length=200)
    set_at: datetime = Field(default_factory=utcnow)
    # Changes whenever the password is set: a session remembers the stamp it began with and ends when it differs.
    stamp: str = Field(default="", max_length=64)


class WebSignInLink(SQLModel, table=True):
    """A one-time sign-in link an admin printed: usable once, until it expires."""

    __tablename__ = "web_sign_in_link"

    token_sha256: str = Field(primary_key=True, max_length=64)
    person: str = Field(max_length=200)
    created_by: str = Field(max_length=200)
    expires_at: datetime
    used_at: datetime | None = None


class WebSignInFailure(SQLModel, table=True):
    """A password sign-in attempt that has not succeeded (yet): counted per typed name and per client address to
    refuse guessing; in the database so every replica counts the same attempts."""

    __tablename__ = "web_sign_in_failure"

    id: int | None = Field(default=None, primary_key=True)
    person: str = Field(max_length=200, index=True)
    client: str = Field(max_length=100, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
