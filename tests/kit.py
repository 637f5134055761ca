"""Helpers several test files share: opening the app in AppTest, the fault catalogue's run folders, and the
heatmap cells as Chromium drew them."""

from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.training import checkpoints

ROOT = Path(__file__).resolve().parent.parent
APP, TIMEOUT = str(ROOT / "app.py"), 60


def app(**params):
    """The app in AppTest with these query parameters, not run yet."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for k, v in params.items():
        at.query_params[k] = v
    return at


def files(path):
    """{relative name: bytes} of every file under path: 'unchanged on disk' means equal snapshots."""
    return {str(f.relative_to(path)): f.read_bytes() for f in sorted(Path(path).rglob("*")) if f.is_file()}


def save_old_run(runs_dir, name="old-run"):
    """A finished run, saved before the fault happens."""
    tok = Tokenizer.build(["good film", "bad film", "good good"], min_freq=1)
    torch.manual_seed(0)
    model = AttentionClassifier(ModelConfig(vocab_size=len(tok), num_classes=2, d_model=16, num_heads=2))
    return checkpoints.save_run(runs_dir / name, model, tok, ["neg", "pos"], dict(name=name, dataset="tiny"), {}, {})


# Every drawn heatmap on the page: its cell size in px (plotly's axis lengths over the cell counts) and its
# visible cell text (the page style hides text plotly shrank too far): how many, widest and tallest, smallest font.
CELLS_JS = """() => [...document.querySelectorAll('.js-plotly-plot')]
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
  }))"""


def cells_overflowing(page, min_font=8):
    """The drawn heatmaps whose cell text is wider than its cell (less than 1 px clear on each side), taller
    than it, or smaller than `min_font` px; also returns every heatmap, for further checks."""
    maps = page.evaluate(CELLS_JS)
    fits = lambda m: m["text_w"] + 2 <= m["cell_w"] and m["text_h"] <= m["cell_h"] and m["font"] >= min_font
    return [m for m in maps if m["n"] and not fits(m)], maps
