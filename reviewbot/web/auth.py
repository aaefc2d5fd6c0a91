"""Who is signed in to the web console: passwords an admin set and one-time sign-in links, both kept in the
database as hashes only (every replica agrees, nothing lives in one process), or a trusted proxy's header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, update
from sqlmodel import col, select

from reviewbot.models import WebCredential, WebSignInFailure, WebSignInLink, utcnow
from reviewbot.settings import Settings
from reviewbot.store import Store
from reviewbot.store.review import audit
from reviewbot.workflows.review import RefusedError, known_people

MIN_PASSWORD_LENGTH = 12
# scrypt at N=2^15, r=8, p=1 (32 MB, the cost OWASP lists for scrypt): slow to guess, fast enough to sign in
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
SCRYPT_MAXMEM = 64 * 1024 * 1024


def hash_password(password: str) -> str:
    """A salted scrypt hash of a password, with its parameters: `scrypt$N$r$p$salt$hash` (base64)."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches a hash made by hash_password (compared in constant time)."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p))
    except (ValueError, TypeError):  # a malformed stored hash never signs anyone in
        return False
    return hmac.compare_digest(actual, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=SCRYPT_MAXMEM, dklen=32)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def check_person(store: Store, settings: Settings, person: str) -> None:
    """Refuse a name that is no person of this workspace (a typo would otherwise make a login nobody is)."""
    with store.session() as session:
        people = known_people(session, settings)
    if person not in people:
        raise RefusedError(
            f"{person} is not a person in this workspace",
            hint="people are those in [identity.people], [roles], [slack] people and the policies' owners and "
            "approvers; check the spelling",
        )


def set_password(store: Store, settings: Settings, person: str, password: str, by: str) -> str:
    """Set (or replace) a person's web console password; audited, the password itself is never stored."""
    check_person(store, settings, person)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise RefusedError(
            f"the password is shorter than {MIN_PASSWORD_LENGTH} characters",
            hint="use a longer one, e.g. four random words",
        )
    hashed = hash_password(password)
    with store.session() as session:
        row = session.get(WebCredential, person) or WebCredential(person=person, password_hash=hashed, set_by=by)
        row.password_hash, row.set_by, row.set_at = hashed, by, utcnow()
        row.stamp = secrets.token_hex(16)  # every session begun before this one ends (see credential_stamp)
        session.add(row)
        audit(session, by, "web_password", f"web console password set for {person}", data={"person": person})
    return f"{person} can now sign in to the web console with that password"


def check_password(store: Store, person: str, password: str) -> bool:
    """True when `person` has a web console password and this is it."""
    with store.session() as session:
        row = session.get(WebCredential, person)
        stored = row.password_hash if row else None
    if stored is None:
        verify_password(password, hash_password("timing-equaliser"))  # no faster answer for unknown names
        return False
    return verify_password(password, stored)


def credential_stamp(store: Store, person: str) -> str:
    """The person's credential stamp: a session that began under another stamp has ended (password changed)."""
    with store.session() as session:
        row = session.get(WebCredential, person)
        return row.stamp if row else ""


@dataclass(frozen=True)
class Limits:
    """How many failed password sign-ins are allowed within a window, per typed name and per client address."""

    per_person: int
    per_client: int
    window: timedelta


class TooManyAttempts(RefusedError):
    """Too many failed sign-ins recently: refused without looking at the password."""


def attempt_password(store: Store, person: str, password: str, client: str, limits: Limits) -> bool:
    """Check a password under the failed-attempt limits: True when right; False when wrong; TooManyAttempts when
    the name or the client address has failed too often in the window (the password is then not even checked).

    The attempt is written before the count is read and removed only when it succeeds, so replicas checking at
    the same moment see each other's attempts: no more than the limit are ever tried in a window.
    """
    person, client = person[:200], client[:100]
    since = utcnow() - limits.window
    with store.session() as session:
        # attempts older than the window no longer count: forget them, so the table stays small
        session.execute(delete(WebSignInFailure).where(col(WebSignInFailure.at) <= since))
        attempt = WebSignInFailure(person=person, client=client)
        session.add(attempt)
        session.flush()
        attempt_id = attempt.id
    with store.session() as session:
        by_person = _failures(session, col(WebSignInFailure.person) == person, since)
        by_client = _failures(session, col(WebSignInFailure.client) == client, since)
        refused = by_person > limits.per_person or by_client > limits.per_client
        if refused:  # a refused attempt is not a failure: it must not keep the name locked past its window
            session.execute(delete(WebSignInFailure).where(col(WebSignInFailure.id) == attempt_id))
    if refused:  # raised after the session committed the delete (an error inside it would roll the delete back)
        whom = f"for {person}" if by_person > limits.per_person else "from your address"
        minutes = int(limits.window.total_seconds() // 60)
        raise TooManyAttempts(
            f"Too many failed sign-ins {whom}: try again in {minutes} minutes",
            hint="or ask an admin for a one-time sign-in link",
        )
    right = check_password(store, person, password)
    if right:
        with store.session() as session:  # a success clears this name's failures (not the address's)
            session.execute(delete(WebSignInFailure).where(col(WebSignInFailure.person) == person))
    return right


def _failures(session, where, since) -> int:  # type: ignore[no-untyped-def]
    query = select(func.count()).select_from(WebSignInFailure).where(where, col(WebSignInFailure.at) > since)
    return int(session.exec(query).one())


def new_sign_in_link(store: Store, settings: Settings, person: str, by: str, minutes: int) -> str:
    """A one-time sign-in token for `person`, valid for `minutes`; only its SHA-256 is stored. Audited."""
    check_person(store, settings, person)
    token = secrets.token_urlsafe(32)
    with store.session() as session:
        session.add(
            WebSignInLink(
                token_sha256=_sha256(token),
                person=person,
                created_by=by,
                expires_at=utcnow() + timedelta(minutes=minutes),
            )
        )
        audit(session, by, "web_sign_in_link", f"one-time sign-in link for {person} ({minutes} min)")
    return token


def redeem_sign_in_link(store: Store, token: str) -> str | None:
    """The person a one-time link signs in, marking it used; None when unknown, used or expired.

    One conditional UPDATE decides, so of two replicas redeeming the same link at once only one succeeds.
    """
    digest, now = _sha256(token), utcnow()
    with store.session() as session:
        result = session.execute(
            update(WebSignInLink)
            .where(
                col(WebSignInLink.token_sha256) == digest,
                col(WebSignInLink.used_at).is_(None),
                col(WebSignInLink.expires_at) > now,
            )
            .values(used_at=now)
        )
        if result.rowcount != 1:
            return None
        link = session.get(WebSignInLink, digest)
        return link.person if link else None


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def people(store: Store, settings: Settings) -> set[str]:
    """Everyone who may sign in: the workspace's people (as `known_people` names them)."""
    with store.session() as session:
        return known_people(session, settings)
