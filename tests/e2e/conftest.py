"""End-to-end fixtures: one served portal (``world.World``) and one headless Chromium for all
the browser tests, closed when the last of them is done (Playwright's sync API holds an event
loop open while it runs, so nothing that calls ``asyncio.run`` may run in between).

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright; ``playwright install`` is
never needed. Screenshots go to a temporary folder, or to ``tests/e2e/screenshots/`` when
``TIDINGS_SCREENSHOTS=1``; every page is shot at desktop and phone widths.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.e2e.world import PASSWORD, World

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 10_000
MAX_SHOT_PX = 8000
FRAME_PAINT_MS = 60


@pytest.fixture(scope="package")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    built = World.start(tmp_path_factory.mktemp("e2e") / "project")
    yield built
    built.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing (CI must install Debian's chromium)")
        pytest.skip(f"{CHROMIUM} is missing")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport=DESKTOP)  # type: ignore[attr-defined]
    context.set_default_timeout(TIMEOUT_MS)
    opened = context.new_page()
    yield opened
    context.close()


class Shots:
    """Full-page screenshots at desktop and phone widths, named after the page."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.taken: list[Path] = []

    def __call__(self, page: object, name: str) -> None:
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(size)  # type: ignore[attr-defined]
            # The whole page as one viewport: Chromium does not paint sandboxed (cross-origin)
            # frames outside the viewport, so a plain full-page shot shows them blank.
            height = page.evaluate("document.documentElement.scrollHeight")  # type: ignore[attr-defined]
            page.set_viewport_size({"width": size["width"],  # type: ignore[attr-defined]
                                    "height": min(max(height, size["height"]), MAX_SHOT_PX)})
            page.wait_for_timeout(FRAME_PAINT_MS)  # type: ignore[attr-defined]
            path = self.folder / f"{slug}.{label}.png"
            page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
            self.taken.append(path)
        page.set_viewport_size(DESKTOP)  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Shots:
    if os.environ.get("TIDINGS_SCREENSHOTS") == "1":
        folder = Path(__file__).parent / "screenshots"
        folder.mkdir(exist_ok=True)
    else:
        folder = tmp_path_factory.mktemp("screenshots")
    return Shots(folder)


def sign_in(page: object, world: World, who: str) -> None:
    """Sign in through the form, as a person would."""
    page.goto(world.base + "/portal/sign-in")  # type: ignore[attr-defined]
    page.get_by_label("Login (email address)").fill(world.logins[who])  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(PASSWORD)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(re.compile(r".*/portal/(?!sign-in).*"))  # type: ignore[attr-defined]
