"""Take the README's screenshots: starts the app, opens pages in headless Chromium, writes docs/*.png.

python tools/screenshots.py                 # every shot below
python tools/screenshots.py --only explore-minilm.png inside-minilm.png    # some of them
python tools/screenshots.py URL OUT.png     # one page of an app that is already running
"""

import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote_plus, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from playwright.sync_api import sync_playwright  # noqa: E402

from tools.browser import CHROMIUM, CHROMIUM_ARGS, start_server  # noqa: E402

# A review of about 200 word pieces, for MiniLM at length
LONG = (
    "We booked this hotel for a long weekend because the reviews promised a quiet room, a generous breakfast and "
    "friendly staff. The first impression was not great: the lobby smelled of fresh paint, the check-in queue moved "
    "slowly and nobody apologised for the wait. Our room, however, was spotless, bright and surprisingly spacious, "
    "with a comfortable bed and a view over the old harbour. Breakfast was the highlight of every morning, with warm "
    "bread, local cheese and strong coffee, although the dining room got crowded after nine. The pool was smaller "
    "than in the photos and closed early on Sunday without any notice. The staff at the front desk were helpful with "
    "directions, and the bar served excellent cocktails until midnight. On the last day the manager upgraded our "
    "late check-out for free and recommended a wonderful seafood restaurant nearby. Overall it was not perfect, but "
    "we would happily come back, and next time we would ask for a room on the top floor."
)
LONGER = LONG + (
    " The street outside was noisy on Friday night, but the windows closed tight and we slept well. Parking cost "
    "extra and the lift was slow, yet the location made up for it: the market, the museum and the beach were all "
    "a short walk away."
)  # about 256 word pieces
LETTERS = " ".join("abcdefghijklmnopqrstuvwxyz"[i % 26] for i in range(510))  # 512 pieces in 1,019 characters
SHOTS = {
    "explore.png": ("/?text=the+flight+was+not+good+at+all", 1900),
    "explore-masks.png": ("/?model=tweets-4h&text=the+flight+was+not+good+at+all&pad=10&padmask=off&off=L1H2", 1900),
    "synthetic.png": ("/?model=synthetic-2h&text=the+dog+4+sat+3+vs+8+on+a+mat", 1500),
    "inside.png": ("/inside?model=tweets-4h&text=great+crew+thanks&head=2", 2400),
    "heads-lab.png": ("/heads?model=synthetic-4h", 2600),
    "train.png": ("/train", 1300),
    "explore-minilm.png": ("/?model=minilm-tweets&text=not+bad+at+all%2C+the+crew+were+lovely", 3300),
    "explore-minilm-long.png": (f"/?model=minilm-tweets&layer=2&focus=h5&text={quote_plus(LONG)}", 3000),
    "inside-minilm.png": ("/inside?model=minilm-bbc&text=markets+fell+after+the+vote&layer=3&head=5", 2400),
    "heads-lab-minilm.png": ("/heads?model=minilm-tweets", 2600),
    "explore-minilm-256.png": (f"/?model=minilm-tweets&text={quote_plus(LONGER)}", 4600),
    "explore-minilm-512.png": (f"/?model=minilm-tweets&layer=3&text={quote_plus(LETTERS)}", 6400),
    "explore-why.png": ("/?model=minilm-tweets&text=not+bad+at+all%2C+the+crew+were+lovely&contrib=on&attrib=on", 5200),
    "explore-patching.png": ("/?model=minilm-tweets&text=the+food+was+good&patch=on&corrupt=the+food+was+bad", 4600),
    "heads-map.png": ("/heads?model=synthetic-4h", 4200),
    "learn.png": ("/learn?model=minilm-tweets&text=the+flight+was+not+good+at+all", 3000),
    "explore-tour.png": ("/", 1000),
}


def shoot(browser, url, out, height=1000):
    """One page at 1400 x height px, once settled; a returning visitor's (no tour card) unless the name ends in
    -tour.png."""
    context = browser.new_context(viewport={"width": 1400, "height": height})
    if not str(out).endswith("-tour.png"):
        context.add_cookies([dict(name="attention_tour", value="done", domain=urlparse(url).hostname, path="/")])
    page = context.new_page()
    page.goto(url)
    settled = (
        "document.querySelector(\"[data-testid='stApp'][data-test-script-state='notRunning']\")"
        " && !document.querySelector(\"[data-stale='true']\")"
    )
    for _ in range(2):  # settled twice, 2 s apart: a rerun the first run asked for has finished too
        page.wait_for_function(settled, timeout=60_000)
        page.wait_for_timeout(2000)  # plotly draws after the script ends
    page.wait_for_function(settled, timeout=60_000)
    page.screenshot(path=str(out))
    context.close()


def train_with_defaults(browser, url, out):
    """Press Start on the Train page with every default (tweets, 4 heads) and shoot once the run has ended."""
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(url + "/train")
    page.locator(".st-key-start_training button").click()
    t0 = time.time()
    page.get_by_text("Saved as").first.wait_for(timeout=300_000)  # the run ended and was saved
    page.wait_for_timeout(3000)
    page.screenshot(path=str(out))
    page.close()
    return time.time() - t0


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        if len(sys.argv) == 3 and sys.argv[1] != "--only":
            shoot(browser, sys.argv[1], sys.argv[2])
            return
        only = sys.argv[2:] if sys.argv[1:2] == ["--only"] else [*SHOTS, "train-done.png"]
        proc, url = start_server(tempfile.mkdtemp())
        try:
            (ROOT / "docs").mkdir(exist_ok=True)
            for name, (path, height) in SHOTS.items():
                if name in only:
                    shoot(browser, url + path, ROOT / "docs" / name, height)
                    print("wrote docs/" + name)
            if "train-done.png" in only:
                seconds = train_with_defaults(browser, url, ROOT / "docs" / "train-done.png")
                print(f"wrote docs/train-done.png (Start to confusion matrix: {seconds:.0f} s)")
        finally:
            proc.terminate()


if __name__ == "__main__":
    main()
