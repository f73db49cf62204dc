"""Page helpers for the Chromium tests.

``sign_in`` signs a page in the way a person does: open the page, paste the
token into the sign-in form, submit. (Pages never read a token from their URL.)
"""

from __future__ import annotations


def sign_in(page, url: str, token: str) -> None:
    page.goto(url)
    page.locator("[data-testid=token-input]").fill(token)
    page.locator("[data-testid=btn-token-signin]").click()


SCREENSHOTS = __import__("pathlib").Path(__file__).resolve().parent.parent / "docs" / "screenshots"


def shot(page, name: str, **kw) -> None:
    """A screenshot for the docs, only under ``make screenshots`` (HEARTLINE_SCREENSHOTS=1):
    tests never write tracked files otherwise."""
    import os

    if os.environ.get("HEARTLINE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), **kw)
