"""Two `reviewbot serve` processes on one database (PostgreSQL when REVIEWBOT_TEST_DATABASE_URL is set), answering
interleaved requests for the same ticket and document: a session signed in on one replica works on the other,
each approver's sign-off is recorded once, and the version is published once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.web.conftest import EDIT, PASSWORD, Console, ticket_id

pytestmark = pytest.mark.slow


@pytest.fixture
def replicas(console: Console) -> Iterator[list[str]]:
    """Two console processes on the demo's database, as a supervisor would start them; stopped with SIGTERM."""
    env = {**os.environ, "REVIEWBOT_WORKSPACE": str(console.folder)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "reviewbot", "serve", "--port", "0"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    addresses = []
    for process in processes:
        line = process.stdout.readline() if process.stdout else ""
        found = re.search(r"on (http://\S+);", line)
        assert found, f"no address in {line!r}: {process.stderr.read() if process.stderr else ''}"
        addresses.append(found.group(1))
    yield addresses
    for process in processes:
        process.terminate()  # SIGTERM: a clean stop
    for process in processes:
        assert process.wait(20) == 0


def _token(browser: requests.Session, url: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(url, timeout=30).text)
    assert found, url
    return found.group(1)


def signed_in(base: str, person: str) -> requests.Session:
    """A browser signed in as `person` on the replica at `base`."""
    browser = requests.Session()
    token = _token(browser, f"{base}/sign-in")
    answer = browser.post(
        f"{base}/sign-in", data={"person": person, "password": PASSWORD, "csrf_token": token}, timeout=30
    )
    assert answer.status_code == 200 and f'id="who">{person}<' in answer.text
    return browser


def at_once(calls: list[tuple[requests.Session, str, str, dict[str, str]]]) -> list[str]:
    """Post forms in parallel threads, released together; the flash message each led to."""
    tokens = [_token(browser, page) for browser, page, _, _ in calls]
    gate = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def send(index: int) -> None:
        browser, _, url, data = calls[index]
        gate.wait()
        answers[index] = browser.post(url, data={**data, "csrf_token": tokens[index]}, timeout=90)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    messages = []
    for answer in answers:
        assert answer is not None and answer.status_code == 200, answer
        found = re.search(r'<p class="flash (?:ok|refused)" role="status">([^<]*)</p>', answer.text)
        messages.append(found.group(1).replace("&#39;", "'") if found else "")
    return messages


def test_two_replicas_one_sign_off_per_approver_and_one_publish(console: Console, replicas: list[str]) -> None:
    from reviewbot.store.policies import releases
    from reviewbot.store.review import sign_offs
    from reviewbot.workflows.review import triage

    a, b = replicas
    number = ticket_id(console, "RB-5")
    triage(console.store, console.settings, "RB-5", "dana.ellis", "nina.kowalski")
    policy = console.folder / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")

    owner_on_a = signed_in(a, "dana.ellis")
    assert 'id="who">dana.ellis<' in owner_on_a.get(f"{b}/tickets", timeout=30).text.replace(a, b)  # B honours A's
    ticket = f"/tickets/{number}"
    for approver, expected in (
        ("nina.kowalski", "RB-5: 1 of 2 approvals"),
        ("marta.silva", "RB-5 is approved; it is published with the next version of customer-service-policy"),
    ):
        on_a, on_b = signed_in(a, approver), signed_in(b, approver)
        messages = at_once(
            [
                (on_a, f"{a}{ticket}", f"{a}{ticket}/sign", {"decision": "approve"}),
                (on_b, f"{b}{ticket}", f"{b}{ticket}/sign", {"decision": "approve"}),
            ]
        )
        assert messages.count(expected) == 1, messages
        other = next(m for m in messages if m != expected)
        # the second waited for the first, then met its result: a second signature, or a ticket no longer signable
        assert other.startswith(f"{approver} already signed RB-5") or "cannot be signed now" in other, messages

    with console.store.session() as session:
        assert sorted(s.approver for s in sign_offs(session, number)) == ["marta.silva", "nina.kowalski"]

    page = "/policies/customer-service-policy"
    owner_on_b = signed_in(b, "dana.ellis")
    messages = at_once(
        [
            (owner_on_a, f"{a}{page}", f"{a}{page}/publish", {}),
            (owner_on_b, f"{b}{page}", f"{b}{page}/publish", {}),
        ]
    )
    assert sum(m.startswith("Published customer-service-policy version 3; closed: RB-5") for m in messages) == 1, (
        messages
    )
    assert any(m.startswith("nothing to publish") for m in messages), messages
    with console.store.session() as session:
        assert [r.version for r in releases(session, "customer-service-policy")] == [1, 2, 3]
