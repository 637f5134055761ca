"""Fault catalogue, part 1: bad sentences and bad CSV uploads.

Every case names a fault, the message a person sees, and checks that nothing was lost: the page
still answers a normal sentence (or a good file) afterwards, and no run was written.
Part 2 (broken checkpoints) is tests/faults/test_faults_runs.py, part 3 (training, restarts)
tests/faults/test_faults_training.py.
"""

import io
import random
import zipfile

import pytest
import torch
from kit import canvas, new_app

import ui
from attention.app import runstore
from attention.core.model import AttentionClassifier, ModelConfig
from attention.core.tokenizer import Tokenizer
from attention.data.types import DataError
from attention.data.upload import dataset_from_csv
from attention.training import checkpoints

torch.set_num_threads(1)


pytestmark = pytest.mark.usefixtures("runs_dir")  # a fresh runs folder for every case (tests/conftest.py)


def shown(at, *kinds):
    """The texts of these elements; "tokens" = the Hide-tokens pills, one per token, as the page labels them."""
    if kinds == ("tokens",):
        return " | ".join(o for p in at.get("pills") if p.key == "hide" for o in p.options)
    return " | ".join(e.value for kind in kinds for e in getattr(at, kind))


def grid_labels(at):
    """The token labels of the attention heatmaps ('0:the', ...), as sent to the page's canvas; none if not drawn."""
    return canvas(at, "grid")[0]["cols"][0] if at.get("bidi_component") else []


def no_raw_html(at):
    """No text element is allowed to render HTML (Streamlit's unsafe_allow_html)."""
    return not [e for e in [*at.markdown, *at.caption] if e.proto.allow_html]


# --- sentences on the Explore page --------------------------------------------------------------

SENTENCES = [  # id, text, where the message is, expected fragment
    ("empty", "", "info", "Type a sentence above"),
    ("whitespace only", " \t \n  ", "info", "Type a sentence above"),
    ("zero-width characters only", "\u200b\u200c\u200d\u2060\ufeff", "info", "no words the model can read"),
    ("50,000 characters", "word " * 10_000, "warning", "48,000 characters past the first 2,000 and 272 words"),
    ("one 50,000-character word", "x" * 50_000, "warning", "too long: 48,000 characters past the first 2,000 were"),
    ("emoji with a skin tone", "✈️ delayed again 😡🙏🏽", "caption", "does not know (read as <unk>, marked ? above): ✈️"),
    ("Arabic (RTL)", "الرحلة كانت سيئة جدا", "caption", "does not know (read as <unk>, marked ? above): الرحلة, كانت"),
    ("Hebrew mixed with English", "הטיסה was great", "caption", "does not know (read as <unk>, marked ? above): הטיסה"),
    ("zero-width inside words, RTL override", "gr\u200beat\u202e fl\u200dight", "caption", "% probability"),
    (
        "HTML and script",
        "<script>alert(1)</script> <b>great</b> <img src=x onerror=alert(1)>",
        "tokens",
        r"\< | script ? | \> | alert | \(",
    ),
    (
        "Markdown link",
        "**great** [click](javascript:alert(1))",
        "tokens",
        r"\* | \* | great | \* | \* | \[ | click | \]",
    ),
]
TOKENS = {  # what the heatmap axis must show for some of them (typed order, invisible characters dropped)
    "emoji with a skin tone": ["✈️", "delayed", "again", "😡", "🙏🏽"],
    "Arabic (RTL)": ["الرحلة", "كانت", "سيئة", "جدا"],
    "Hebrew mixed with English": ["הטיסה", "was", "great"],
    "zero-width inside words, RTL override": ["great", "flight"],
}


@pytest.mark.parametrize("case, text, kind, fragment", SENTENCES, ids=[s[0] for s in SENTENCES])
def test_a_bad_sentence_gets_a_clear_message_and_the_page_keeps_working(case, text, kind, fragment):
    at = new_app()
    at.query_params["model"] = "tweets-4h"
    at.run()
    at.text_input(key="text").set_value(text).run()  # typed or pasted: no 5,000-character cap of the URL
    assert not at.exception
    assert fragment in shown(at, kind), shown(at, kind)
    assert "0 words" not in shown(at, "warning")
    assert at.text_input(key="text").value == text  # the box keeps exactly what was typed
    assert no_raw_html(at)
    labels = grid_labels(at)
    assert not any(tag in lab for lab in labels for tag in ("<script", "<b>", "<img"))  # tokens never form tags
    if case in TOKENS:
        assert [lab.split(":", 1)[1] for lab in labels[: len(TOKENS[case])]] == TOKENS[case]
    # The address bar and links carry the part the model read: 50,000 letters (x6 once URL-encoded) gave HTTP 400.
    assert len(at.query_params.get("text", "")) <= 2000
    assert all(len(link.proto.query_string) < 30_000 for link in at.get("page_link"))
    at.text_input(key="text").set_value("the flight was great").run()  # and the page still works
    assert not at.exception and at.metric and not [w for w in at.warning if "too long" in w.value]


# --- CSV uploads ----------------------------------------------------------------------------------


def xlsx_like():
    """A zip laid out like an .xlsx (what Excel writes is a zip of XML parts), as bytes."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet><sheetData/></worksheet>")
    return buf.getvalue()


def rows(n=20, label=lambda i: "pos" if i % 2 else "neg"):
    return "".join(f"text number {i},{label(i)}\n" for i in range(n))


UPLOADS = [  # id, file bytes, expected fragment of the DataError (shown as "This file can't be used…")
    ("empty file", b"", "The file is empty."),
    ("only blank lines and a BOM", b"\xef\xbb\xbf\n\r\n \n", "The file is empty."),
    ("header only", b"text,label\n", "header row but no data rows"),
    ("malformed: quote never closed", b'text,label\n"never closed,pos\n' + rows().encode(), "could not be read as CSV"),
    ("malformed: extra field", b"text,label\nhello, world,pos\n", "Line 2 has 3 fields but the header has 2"),
    ("one field over 131,072 characters", b"text,label\n" + b"a" * 200_000 + b",pos\n", "field larger than field"),
    ("Latin-1 bytes", "text,label\ncafé,pos\n".encode("latin-1"), "not UTF-8 text (byte 0xe9 at offset 14)"),
    ("UTF-16 (Excel 'Unicode text')", ("text,label\n" + rows()).encode("utf-16"), "not UTF-8 text (byte 0xff at"),
    ("an .xlsx renamed .csv", xlsx_like(), "looks like a spreadsheet (an Excel or OpenDocument file), not a CSV"),
    ("an old .xls renamed .csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "in Excel, File → Save As"),
    ("semicolon-separated", ("text;label\n" + rows().replace(",", ";")).encode(), "found: 'text;label'"),
    ("missing column", b"sentence,label\nhello,a\n", "Missing column 'text'"),
    ("missing both columns", b"body,tag\na,b\n", "Missing columns 'text' and 'label'"),
    ("duplicate column names", b"text,Text,label\na,b,c\n", "Duplicate column name: 'text' appears 2 times"),
    ("one class", ("text,label\n" + rows(label=lambda i: "same")).encode(), "Only one label ('same')"),
    ("one class, HTML label", ("text,label\n" + rows(label=lambda i: "<b>x</b>")).encode(), "('<b>x</b>') found"),
    ("a label seen once", ("text,label\n" + rows(12, lambda i: "x") + "lonely,y\n").encode(), "only 1: 'y'"),
    ("too few rows", b"text,label\na,x\nb,y\nc,x\nd,y\n", "Only 4 usable rows; at least 10 are needed"),
    ("every row empty", b"text,label\n,pos\n  ,neg\nhi,\n", "No usable rows"),
    ("over the size limit", b"text,label\n" + b"x,a\n" * 1_300_000, "the limit is 5,000,000 bytes (5 MB)"),
]


@pytest.mark.parametrize("case, data, fragment", UPLOADS, ids=[u[0] for u in UPLOADS])
def test_a_bad_upload_is_refused_with_its_reason(case, data, fragment):
    with pytest.raises(DataError) as e:
        dataset_from_csv(data)
    assert fragment in str(e.value)


def test_html_labels_are_kept_as_plain_text():
    labels = {0: "<b>neg</b>", 1: "<a href='javascript:alert(1)'>pos</a>"}
    ds = dataset_from_csv(("text,label\n" + rows(label=lambda i: labels[i % 2])).encode())
    assert ds.classes == sorted(labels.values())  # neither stripped nor unescaped


def good_csv(n=60):
    words = {"neg": "bad awful poor".split(), "pos": "good great fine".split()}
    rng = random.Random(0)
    return (
        "text,label\n"
        + "".join(f"{' '.join(rng.choices(words[y], k=3))} {i},{y}\n" for i, y in enumerate(["neg", "pos"] * (n // 2)))
    ).encode()


PAGE_UPLOADS = ["empty file", "malformed: quote never closed", "duplicate column names", "one class, HTML label"]


@pytest.mark.parametrize("case", PAGE_UPLOADS)
def test_the_train_page_explains_a_bad_upload_then_takes_a_good_one(case, runs_dir):
    data, fragment = {u[0]: u[1:] for u in UPLOADS}[case]
    at = new_app().run().switch_page("pages/train.py").run()
    at.selectbox(key="t_dataset").set_value("upload").run()
    at.file_uploader[0].upload("bad.csv", data, "text/csv")
    at.run()
    assert not at.exception
    assert "nothing will be trained" in at.error[0].value and fragment in at.error[0].value
    assert (
        at.button(key="start_training").disabled
        and runstore.list_runs(runs_dir) == []
        and not (runs_dir / ".jobs").exists()
    )
    at.file_uploader[0].upload("good.csv", good_csv(), "text/csv")  # the page still works
    at.run()
    assert not at.exception and not at.error and not at.button(key="start_training").disabled


def test_html_class_names_show_as_text_on_explore(runs_dir):
    """Labels from an upload become class names: the prediction, the bars and the sidebar show them as typed."""
    classes = ["<b>neg</b>", "<a href='javascript:alert(1)'>pos</a>"]
    tok = Tokenizer.build(["good film", "bad film"], min_freq=1)
    torch.manual_seed(0)
    model = AttentionClassifier(ModelConfig(vocab_size=len(tok), num_classes=2, d_model=16, num_heads=2))
    checkpoints.save_run(runs_dir / "html", model, tok, classes, dict(dataset="upload"))
    at = new_app()
    at.query_params["model"], at.query_params["text"] = "html", "good film"
    at.run()
    assert not at.exception and no_raw_html(at)
    assert at.metric[0].value in [ui.words.md_escape(c) for c in classes]  # Markdown-escaped: shows as typed
    bars = [p.proto.text.split(" · ")[0].strip("*") for p in at.get("progress")]  # the probability bars' labels
    assert bars == [ui.words.md_escape(c) for c in classes]  # Markdown-escaped: shown as typed, never as markup
    assert r"\<b\>neg\</b\>" in shown(at, "caption")
