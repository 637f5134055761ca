"""Helpers several test files share: opening the app in AppTest, the fault catalogue's run folders, and the
heatmap cells as Chromium drew them."""

import random
import time
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from attention.app.jobs import JobSpec
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.data.types import TextDataset, split_stratified
from attention.training import checkpoints
from attention.training.loop import TrainConfig
from tools.browser import CANVASES

ROOT = Path(__file__).resolve().parent.parent
APP, TIMEOUT = str(ROOT / "app.py"), 60


# AppTest cannot carry the browser's cookie, so the app's visitor in these tests is a logged-in account (AppTest
# seeds st.user); the browser tests use the anonymous cookie. tests/conftest.py's runs_dir is this account's folder.
TESTER = dict(is_logged_in=True, sub="tester", email="tester@example.com")


def new_app(timeout=TIMEOUT):
    """The app in AppTest as the test visitor, not run yet."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.user = dict(TESTER)
    return at


def tester_home(runs_root):
    """The test visitor's runs folder under a runs root."""
    from attention.app import owners

    return owners.home(owners.account(TESTER["sub"]), runs_root)


def app(**params):
    """The app in AppTest with these query parameters, not run yet."""
    at = new_app()
    for k, v in params.items():
        at.query_params[k] = v
    return at


def files(path):
    """{relative name: bytes} of every file under path: 'unchanged on disk' means equal snapshots. The app's own
    bookkeeping beside a visitor's runs (names starting with a dot: their last visit, job logs) is left out."""
    found = sorted(f for f in Path(path).rglob("*") if f.is_file())
    return {str(f.relative_to(path)): f.read_bytes() for f in found if not f.relative_to(path).parts[0][0] == "."}


def save_old_run(runs_dir, name="old-run"):
    """A finished run, saved before the fault happens."""
    tok = Tokenizer.build(["good film", "bad film", "good good"], min_freq=1)
    torch.manual_seed(0)
    model = AttentionClassifier(ModelConfig(vocab_size=len(tok), num_classes=2, d_model=16, num_heads=2))
    return checkpoints.save_run(runs_dir / name, model, tok, ["neg", "pos"], dict(name=name, dataset="tiny"), {}, {})


# Every drawn heatmap on the page: its cell size in px and its visible cell text: how many, widest and tallest,
# smallest font. Plotly's (axis lengths over cell counts; the page style hides text plotly shrank too far), then
# the canvas views' (ui/heatmaps.js reports what it wrote).
CELLS_JS = (
    """() => [...document.querySelectorAll('.js-plotly-plot')]
  .filter(d => !d.closest("[data-stale='true']") && d._fullLayout && d.offsetParent)
  .flatMap(d => [...d.querySelectorAll('.heatmaplayer g.hm')].map(g => {
    const t = g.__data__[0].trace, fl = d._fullLayout;
    const xa = fl['xaxis' + t.xaxis.slice(1)], ya = fl['yaxis' + t.yaxis.slice(1)];
    const texts = [...g.querySelectorAll('.heatmap-label text')].filter(e => getComputedStyle(e).display !== 'none');
    const boxes = texts.map(e => e.getBBox());
    return {
      title: ((d.layout.annotations || [])[t.index] || {}).text || (d.layout.title || {}).text || '',
      cell_w: xa._length / t.z[0].length, cell_h: ya._length / t.z.length, n: texts.length,
      text_w: Math.max(0, ...boxes.map(b => b.width)), text_h: Math.max(0, ...boxes.map(b => b.height)),
      font: Math.min(...texts.map(e => parseFloat(e.style.fontSize))),
    };
  })).concat("""
    + CANVASES
    + """.filter(c => c.offsetParent).flatMap(c => c.hm.panels))"""
)


def cells_overflowing(page, min_font=8, settle_s=5.0):
    """The drawn heatmaps whose cell text is wider than its cell (less than 1 px clear on each side), taller
    than it, or smaller than `min_font` px; also returns every heatmap, for further checks.

    Asked again for up to `settle_s` seconds while some overflow: on a narrow window plotly first draws at the
    figure's own width and then fits it to the page (a busy machine once caught that first frame in CI); what
    counts is the page a person is left looking at."""
    fits = lambda m: m["text_w"] + 2 <= m["cell_w"] and m["text_h"] <= m["cell_h"] and m["font"] >= min_font
    deadline = time.monotonic() + settle_s
    while True:
        maps = page.evaluate(CELLS_JS)
        bad = [m for m in maps if m["n"] and not fits(m)]
        if not bad or time.monotonic() > deadline:
            return bad, maps
        page.wait_for_timeout(200)


# --- tiny datasets a training finishes on in a second ---------------------------------------------

MODEL = dict(d_model=16, num_heads=4)
WORDS = {"neg": "bad awful poor hate sad".split(), "pos": "good great fine nice love".split()}


def tiny(n=200, classes=("neg", "pos"), seed=0):
    """n short texts whose words give the label away, split 80/10/10."""
    rng = random.Random(seed)
    vocab = {c: WORDS.get(c) or [f"{c}{i}" for i in range(5)] for c in classes}
    labels = [i % len(classes) for i in range(n)]
    texts = [" ".join(rng.choices(vocab[classes[y]], k=4) + rng.choices(sum(vocab.values(), []), k=2)) for y in labels]
    return TextDataset("tiny", list(classes), *split_stratified(texts, labels, seed=seed), "tiny")


def spec(n=200, classes=("neg", "pos"), **train):
    cfg = dict(epochs=3, batch_size=16, min_freq=1, patience=100) | train
    return JobSpec("tiny", MODEL, TrainConfig(**cfg), tiny(n, classes))


def label(folder):
    """How the model picker names a run (its display name, accuracy...): read from the run as the app does."""
    from attention.app.runstore import runs_table

    return next(r["label"] for r in runs_table() if r["folder"] == folder)


# --- a training as a worker runs it, in this process -----------------------------------------------


def job_dir(runs_dir, s):
    """A job folder with this spec written, as jobs.start writes it before handing it to the engine."""
    from attention.app import jobs, trainer

    path = Path(runs_dir) / jobs.JOBS / f"job{random.randrange(1 << 30):08x}"
    trainer.write_spec(path, s.dataset, s.model, s.train, runs_dir, s.upload)
    return path


def train_here(runs_dir, s):
    """Train `s` in this process exactly as a worker would; the Progress the page would read at the end."""
    from attention.app import runlog, trainer

    path = job_dir(runs_dir, s)
    trainer.train(path)
    return runlog.Follower(str(path)).update()


def visit(context, server, runs_root):
    """Give a browser context a visitor cookie, as the app sets one on a first visit; returns their runs folder."""
    from attention.app import owners
    from ui.visitor import COOKIE

    vid = owners.new_visitor_id()
    context.add_cookies([dict(name=COOKIE, value=vid, url=server)])
    return owners.home(owners.visitor(vid), runs_root)


def choose(page, label, typed, option):
    """Open the select box `label`, type `typed` to filter its list and click `option` (a name or a pattern), as a
    person would; once more if the list closed meanwhile (seen once in CI: the page reran while it was open, and
    the option's element left the page for good)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(2):
        page.get_by_role("combobox", name=label).click()
        page.keyboard.type(typed)
        try:
            page.get_by_role("option", name=option).first.click(timeout=10_000 if attempt == 0 else None)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            page.get_by_role("combobox", name=label).fill("")
    raise AssertionError(f"no option {option!r} in {label}")


def canvas(at, key):
    """(header, values (P, R, C)) of an AppTest page's canvas heatmaps with this key: the message
    attention.viz.packed made for ui/heatmaps.js, read back."""
    from attention.viz.packed import unpack

    return unpack(next(e.proto.bytes for e in at.get("bidi_component") if e.proto.id.endswith("-" + key)))
