"""A file name with a bare URL, a www. name or an e-mail address never becomes a link (issue #13):
not in the page title, the message or the sidebar, and not after a reload restores the session."""

from __future__ import annotations

from browser_support import open_app, wait_idle

NAME = "notes see https://evil.example/login?x=1 www.evil.example bob@evil.example.txt"
TEXT = "plain words for a small model to learn from. " * 20


def evil_links(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('a')]
        .map(a => a.getAttribute('href') || '').filter(h => h.includes('evil.example'))""")


def test_autolinks_in_a_file_name_stay_text(browser, app_url):
    page = open_app(browser, app_url)
    page.get_by_text("Text ·").first.click()
    upload = page.locator('[data-testid="stExpander"]').filter(has_text="…or upload a .txt file")
    upload.locator('input[type="file"]').set_input_files(
        files=[{"name": NAME, "mimeType": "text/plain", "buffer": TEXT.encode()}])
    heading = page.get_by_role("heading", name="Uploaded:")
    heading.wait_for()
    wait_idle(page)
    assert NAME in heading.inner_text().replace("\u200b", "")            # shown, every character
    assert page.get_by_text("Training on ").count() >= 1
    assert evil_links(page) == []
    page.get_by_role("button", name="Step", exact=False).first.click()    # changed: the session is saved
    wait_idle(page)
    page.reload()
    page.get_by_role("heading", name="Uploaded:").wait_for()
    wait_idle(page)
    assert evil_links(page) == []
    page.context.close()
