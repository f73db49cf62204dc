"""Page helpers for the Chromium tests.

``sign_in`` signs a page in the way a person does: open the page, paste the
token into the sign-in form, submit. (Pages never read a token from their URL.)
"""

from __future__ import annotations


def sign_in(page, url: str, token: str) -> None:
    page.goto(url)
    page.locator("[data-testid=token-input]").fill(token)
    page.locator("[data-testid=btn-token-signin]").click()
