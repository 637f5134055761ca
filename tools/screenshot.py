"""Screenshot a page of a running app: python tools/screenshot.py URL OUT.png [WAIT_SECONDS]"""

import sys

from playwright.sync_api import sync_playwright

sys.path.insert(0, "tests")
from conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

url, out = sys.argv[1], sys.argv[2]
wait = float(sys.argv[3]) if len(sys.argv) > 3 else 4
with sync_playwright() as p:
    b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    pg = b.new_page(viewport={"width": 1400, "height": 1000})
    pg.goto(url)
    pg.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=60_000)
    pg.wait_for_timeout(wait * 1000)
    pg.screenshot(path=out, full_page=True)
    b.close()
