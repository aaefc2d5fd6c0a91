"""Person ids that cannot pass for one another: ASCII only, and no two alike once case and width are folded.

"dаna.ellis" with a Cyrillic "а" shows as "dana.ellis" in the audit log, Slack and the console, so anyone named
so in the configuration or a policy could be taken for her.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

ASCII_HINT = (
    "retype it with ASCII letters, digits, '.', '_', '@' or '-' "
    "(a name copied from a chat or a document can carry look-alike letters)"
)
SAME_HINT = "use one spelling for one person (everywhere it is named), and names that differ for different people"


class NameProblem(NamedTuple):
    """A person id that could pass for another: where it is, what is wrong, how to fix it."""

    where: tuple[Any, ...]
    message: str
    hint: str


def foreign_character(name: str) -> str | None:
    """The first character of `name` that is not ASCII, described with its Unicode name, or None."""
    char = next((c for c in name if not c.isascii()), None)
    if char is None:
        return None
    return f"{char!r} ({unicodedata.name(char, 'unnamed character')}, U+{ord(char):04X})"


def folded(name: str) -> str:
    """How a name reads to a person: compatibility forms (full-width letters) unified, case ignored."""
    return unicodedata.normalize("NFKC", name).casefold()


def named_people(data: dict[str, Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every person (or role) id a configuration names, with where: roles and their people, admins, the people of
    [identity], [slack] people and [tracker] users."""
    roles = data.get("roles") or {}
    for role, people in roles.items() if isinstance(roles, dict) else ():
        yield str(role), ("roles", role)
        for index, person in enumerate(people if isinstance(people, list) else []):
            yield str(person), ("roles", role, index)
    identity = data.get("identity") or {}
    for index, admin in enumerate(identity.get("admins") or []):
        yield str(admin), ("identity", "admins", index)
    for table, key in (("identity", "people"), ("slack", "people"), ("tracker", "users")):
        people = (data.get(table) or {}).get(key)
        for person in people if isinstance(people, dict) else ():
            yield str(person), (table, key, person)


def look_alike(names: Iterable[tuple[str, tuple[Any, ...]]]) -> NameProblem | None:
    """The first id that is not ASCII or reads the same as another one, or None."""
    seen: dict[str, tuple[str, tuple[Any, ...]]] = {}
    for name, where in names:
        if (char := foreign_character(name)) is not None:
            message = f"person id {name!r} is not plain ASCII: it holds {char}, which can pass for another letter"
            return NameProblem(where, message, ASCII_HINT)
        first = seen.setdefault(folded(name), (name, where))
        if first[0] != name:
            message = f"person id {name!r} reads the same as {first[0]!r} ({field_name(first[1])})"
            return NameProblem(where, message, SAME_HINT)
    return None


def field_name(where: tuple[Any, ...]) -> str:
    """A setting's location as people write it: roles.head-of-cx[1]."""
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in where).replace(".[", "[")
