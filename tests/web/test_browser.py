"""The console in a real browser: headless Chromium (Debian's package, driven by Playwright, as the report's
browser test does) against `reviewbot serve`'s server on the demo. An owner signs in, triages a ticket and moves
it to another section; two approvers sign off, each in a browser context of their own; an approver who is not
listed is refused; the owner publishes; an agent acknowledges. Without Chromium it skips locally and fails in CI.

With REVIEWBOT_SCREENSHOTS=FOLDER it also saves the main pages at desktop and phone widths there (docs/ holds them).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import PASSWORD, Console

SECTION = "service-standards-and-response-time-benchmarks"
EDIT = (
    "- **Social media messages:** a reply within 4 hours during opening hours.",
    "- **Social media messages:** a reply within 4 hours, seven days a week from 8am to 8pm.",
)
DESKTOP, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture
def served(console: Console) -> Iterator[str]:
    """The console served by waitress on a free local port, as `reviewbot serve` serves it."""
    from reviewbot.serving import WsgiServer

    server = WsgiServer(console.app, "127.0.0.1", 0, threads=4)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.address
    server.shutdown()
    thread.join(10)


class Person:
    """One person's browser context (cookies of their own), recording page errors and blocked requests."""

    def __init__(self, chromium: Any, base: str, name: str, viewport: dict[str, int] = DESKTOP) -> None:
        self.context = chromium.new_context(viewport=viewport, base_url=base)
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.name = name

    def sign_in(self) -> None:
        """Through the sign-in form."""
        self.page.goto("/tickets")  # sent to the sign-in page first
        assert "/sign-in" in self.page.url
        self.page.fill("input[name=person]", self.name)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button:has-text('Sign in')")
        assert self.page.inner_text("#who") == self.name

    def flash(self) -> str:
        """The message the last action left."""
        return self.page.inner_text(".flash")

    def open_ticket(self, ref: str) -> None:
        """From the inbox, by its reference."""
        self.page.goto("/tickets")
        self.page.click(f"a:text-is('{ref}')")


def shoot(person: Person, name: str) -> None:
    """Save the page at desktop and phone widths when REVIEWBOT_SCREENSHOTS names a folder."""
    folder = os.environ.get("REVIEWBOT_SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        person.page.set_viewport_size(viewport)
        person.page.screenshot(path=str(Path(folder) / f"web-{name}-{label}.png"), full_page=label == "desktop")
    person.page.set_viewport_size(DESKTOP)


def test_review_start_to_finish_in_the_browser(browser: Any, served: str, console: Console) -> None:
    owner = Person(browser, served, "dana.ellis")
    owner.sign_in()
    shoot(owner, "inbox")
    owner.open_ticket("RB-5")
    assert owner.page.inner_text("#state") == "open"
    shoot(owner, "ticket")
    owner.page.fill("form[action$='/triage'] input[name=assignee]", "marta.silva")
    owner.page.click("button[value=triage]")
    assert "RB-5 is triaged and assigned to marta.silva" in owner.flash()
    owner.page.select_option("select[name=target]", f"customer-service-policy:{SECTION}")
    owner.page.fill("form[action$='/move'] input[name=reason]", "a benchmark question, not a channel question")
    owner.page.click("button:has-text('Move')")
    assert f"RB-5 moved from communication-channels to {SECTION}" in owner.flash()

    policy = console.folder / "policies" / "customer-service-policy.md"
    policy.write_text(policy.read_text(encoding="utf-8").replace(*EDIT), encoding="utf-8")

    outsider = Person(browser, served, "sam.okafor")
    outsider.sign_in()
    outsider.open_ticket("RB-5")
    assert outsider.page.locator("button[value=approve]").count() == 0
    assert "You are not an approver" in outsider.page.inner_text("aside")

    marta = Person(browser, served, "marta.silva")
    marta.sign_in()
    marta.open_ticket("RB-5")
    assert "seven days a week from 8am to 8pm" in marta.page.inner_text("pre.diff")
    marta.page.click("button[value=approve]")
    assert "RB-5: 1 of 2 approvals" in marta.flash()

    owner.open_ticket("RB-5")
    owner.page.fill("textarea[name=comment]", "Weekend cover agreed <b>with</b> the team")
    owner.page.click("button[value=approve]")
    assert "RB-5 is approved" in owner.flash()
    assert "Weekend cover agreed <b>with</b> the team" in owner.page.inner_text(".signed >> nth=1")

    owner.page.goto("/policies/customer-service-policy")
    shoot(owner, "policy")
    owner.page.click("button:has-text('Publish version 3')")
    assert "Published customer-service-policy version 3; closed: RB-5" in owner.flash()

    agent = Person(browser, served, "priya.n", viewport=PHONE)
    agent.sign_in()
    agent.page.goto("/policies/customer-service-policy")
    assert "priya.n" in agent.page.inner_text("#pending")
    agent.page.click("button:has-text('I have read version 3')")
    assert "priya.n acknowledged customer-service-policy version 3" in agent.flash()
    assert "priya.n" in agent.page.inner_text("#acked") and "priya.n" not in agent.page.inner_text("#pending")

    for person in (owner, outsider, marta, agent):
        assert person.errors == [], person.errors  # the CSP blocked nothing the page needed
        person.context.close()


def test_live_charts_themes_and_versions_diff_in_the_browser(browser: Any, served: str) -> None:
    owner = Person(browser, served, "dana.ellis")
    owner.sign_in()
    owner.page.click("nav a:text-is('Charts')")
    owner.page.wait_for_selector("html[data-charts]")  # report.js sets it once every chart is drawn
    drawn = int(owner.page.get_attribute("html", "data-charts") or 0)
    assert drawn >= 5 and drawn == owner.page.locator("canvas").count()
    shoot(owner, "charts")

    owner.page.click("nav a:text-is('Themes')")
    owner.page.click("table.themes a >> nth=0")
    assert "Most typical of" in owner.page.inner_text("main")
    shoot(owner, "theme")

    owner.page.goto("/policies/customer-service-policy")
    owner.page.click("a:text-is('Compare versions')")
    owner.page.select_option("select[name=from]", "1")
    owner.page.select_option("select[name=to]", "2")
    owner.page.select_option("select[name=view]", "split")
    owner.page.click("button:has-text('Compare')")
    assert "2 section(s) changed" in owner.page.inner_text("main")
    assert owner.page.locator("table.side-by-side tr.changed").count() >= 2
    shoot(owner, "diff")

    assert owner.errors == [], owner.errors  # the CSP blocked nothing the charts needed
    owner.context.close()
