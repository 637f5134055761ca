"""Whose runs are whose (attention/app/owners.py): owner keys, each owner's folder, share links, limits and keeping."""

import json
import os
import time

import pytest
from kit import save_old_run

from attention.app import owners, runlog, runstore

DAY = 86400


def tree(root):
    """Every path under root (dotted ones too): 'nothing was created' means equal snapshots."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def age(path, days, now=None):
    """Set a file's or folder's mtime `days` before `now`."""
    t = (now or time.time()) - days * DAY
    os.utime(path, (t, t))


@pytest.fixture
def root(tmp_path):
    return tmp_path / "runs"


@pytest.fixture
def mine(root):
    return owners.home(owners.account("me"), root)


@pytest.fixture
def theirs(root):
    return owners.home(owners.account("someone else"), root)


# --- owner keys and folders ---------------------------------------------------------------------------------------


def test_owner_keys_are_32_hex_stable_and_tell_visitors_from_accounts():
    vid = owners.new_visitor_id()
    key = owners.visitor(vid)
    assert owners.OWNER.fullmatch(key) and len(key) == 32
    assert owners.visitor(vid) == key and owners.account("me") == owners.account("me")
    assert owners.account(vid) != key  # the same string as a login is someone else
    assert owners.visitor(owners.new_visitor_id()) != key
    assert vid not in key  # the key tells nothing of the cookie


def test_the_visitor_ids_we_make_are_accepted_back_from_the_cookie():
    ids = {owners.new_visitor_id() for _ in range(50)}
    assert len(ids) == 50 and all(owners.visitor(v) is not None for v in ids)


@pytest.mark.parametrize(
    "cookie",
    [
        "",
        "short",
        "../x",
        "a" * 31 + "/",
        "a" * 31 + ".",
        "a" * 33,
        "a" * 31 + "\n",
        None,
        12345,
        b"a" * 32,
        ["a" * 32],
    ],
)
def test_cookie_values_we_did_not_make_are_nobody(cookie):
    assert owners.visitor(cookie) is None


@pytest.mark.parametrize("bad", ["..", "a/b", "", "A" * 32, "0" * 31, "0" * 31 + "/", "../" + "0" * 29])
def test_home_refuses_anything_but_an_owner_key_and_makes_nothing(tmp_path, bad):
    tmp_path.joinpath("runs").mkdir()
    before = tree(tmp_path)
    with pytest.raises(ValueError):
        owners.home(bad, tmp_path / "runs")
    assert tree(tmp_path) == before


def test_home_is_the_owners_folder_under_the_root(root):
    key = owners.account("me")
    assert owners.home(key, root) == root / key and (root / key).is_dir()
    assert owners.home(key, root) == root / key  # again: the same folder, no error


# --- share links ----------------------------------------------------------------------------------------------------


@pytest.fixture
def shared(root, mine):
    """(run, link name) of one of my runs, shared."""
    run = save_old_run(mine, "mine")
    return run, owners.share(run, root)


def test_sharing_gives_one_link_that_opens_exactly_that_run(root, shared):
    run, name = shared
    token = name.removeprefix(owners.SHARED)
    assert name.startswith(owners.SHARED) and owners.TOKEN.fullmatch(token)
    assert owners.share(run, root) == name  # the same link each time
    assert owners.shared_run(name, root) == run
    assert json.loads((run / "config.json").read_text())["share"] == token
    assert [p.name for p in (root / owners.SHARES).iterdir()] == [f"{token}.json"]


def test_two_runs_get_different_links(root, mine, shared):
    other = save_old_run(mine, "other")
    name = owners.share(other, root)
    assert name != shared[1]
    assert owners.shared_run(name, root) == other and owners.shared_run(shared[1], root) == shared[0]


BAD_NAMES = [
    "shared-../../x",
    "shared-" + "A" * 22,  # the right shape, not in the index
    "shared-{token}x",
    "shared-{short}",  # one character short
    "{token}",  # the token without the prefix
    "shared-",
    "",
    "shared-../" + "A" * 19,
    "shared-" + "A" * 18 + ".json",
]


@pytest.mark.parametrize("bad", BAD_NAMES)
def test_unknown_or_malformed_links_open_nothing_and_create_nothing(tmp_path, root, shared, bad):
    token = shared[1].removeprefix(owners.SHARED)
    name = bad.format(token=token, short=token[:-1])
    before = tree(tmp_path)
    assert owners.shared_run(name, root) is None
    assert tree(tmp_path) == before


@pytest.mark.parametrize("bad", [None, 42, ["shared-x"]])
def test_a_link_name_that_is_not_a_string_opens_nothing(root, shared, bad):
    assert owners.shared_run(bad, root) is None


def test_an_unshared_link_opens_nothing_and_sharing_again_gives_a_new_one(root, shared):
    run, name = shared
    owners.unshare(run, root)
    assert owners.shared_run(name, root) is None
    assert "share" not in json.loads((run / "config.json").read_text())
    assert not list((root / owners.SHARES).iterdir())
    again = owners.share(run, root)
    assert again != name and owners.shared_run(again, root) == run and owners.shared_run(name, root) is None


def test_unsharing_a_run_that_is_not_shared_changes_nothing(root, mine):
    run = save_old_run(mine, "mine")
    before = (run / "config.json").read_bytes()
    owners.unshare(run, root)
    assert (run / "config.json").read_bytes() == before


def test_a_deleted_runs_link_opens_nothing(root, mine, shared):
    run, name = shared
    runstore.delete_run(run, runs_dir=mine)
    assert owners.shared_run(name, root) is None


def test_a_run_made_again_under_the_same_folder_name_is_not_opened_by_the_old_link(root, mine, shared):
    run, name = shared
    runstore.delete_run(run, runs_dir=mine)
    again = save_old_run(mine, run.name)
    assert again == run and owners.shared_run(name, root) is None
    owners.share(again, root)  # shared anew: still not by the old link
    assert owners.shared_run(name, root) is None


def forge(root, token, **entry):
    (root / owners.SHARES).mkdir(exist_ok=True)
    (root / owners.SHARES / f"{token}.json").write_text(json.dumps(entry))
    return owners.SHARED + token


def test_an_index_entry_naming_a_run_that_does_not_carry_its_token_opens_nothing(root, theirs):
    run = save_old_run(theirs, "private")
    assert owners.shared_run(forge(root, "B" * 22, owner=theirs.name, folder=run.name), root) is None
    owners.share(run, root)  # shared by its own link: a forged one still opens nothing
    assert owners.shared_run(forge(root, "C" * 22, owner=theirs.name, folder=run.name), root) is None


@pytest.mark.parametrize(
    "entry",
    [
        dict(owner="..", folder="x"),
        dict(owner="{owner}/..", folder="{folder}"),
        dict(owner="{owner}", folder="../{owner}/{folder}"),
        dict(owner="{owner}", folder=".jobs"),
        dict(owner="{owner}"),
        dict(folder="{folder}"),
    ],
)
def test_a_malformed_index_entry_opens_nothing(root, theirs, entry):
    run = save_old_run(theirs, "private")
    entry = {k: v.format(owner=theirs.name, folder=run.name) for k, v in entry.items()}
    (theirs / ".jobs").mkdir()
    assert owners.shared_run(forge(root, "D" * 22, **entry), root) is None


@pytest.mark.parametrize(
    "text", ["not json", "[1, 2]", '{"owner": 42, "folder": "x"}', '{"owner": "%s", "folder": []}']
)
def test_a_corrupt_index_file_opens_nothing_and_does_not_stop_expire(root, theirs, text):
    (root / owners.SHARES).mkdir()
    (root / owners.SHARES / f"{'E' * 22}.json").write_text(text.replace("%s", theirs.name))
    try:
        opened = owners.shared_run("shared-" + "E" * 22, root)
        owners.expire(root)
    except TypeError as e:  # owners.py shared_run: OWNER.fullmatch(owner) / runs.get(folder) outside the try
        pytest.fail(f"BUG owners.shared_run raises on a corrupt share index file ({e!r}); expire() fails with it")
    assert opened is None


# --- ownership: rename and delete only in the owner's own folder -----------------------------------------------------


@pytest.mark.parametrize("action", ["rename", "delete"])
def test_another_owners_run_cannot_be_renamed_or_deleted(root, mine, theirs, action):
    run = save_old_run(theirs, "private")
    before = (run / "config.json").read_bytes()
    for where in (mine, root):  # my folder, or the runs root itself
        with pytest.raises(PermissionError):
            if action == "rename":
                runstore.rename_run(run, "mine now", runs_dir=where)
            else:
                runstore.delete_run(run, runs_dir=where)
    assert (run / "config.json").read_bytes() == before


# --- limits ---------------------------------------------------------------------------------------------------------


def test_the_run_limit_allows_one_fewer_and_says_what_to_do_at_it(root, mine, monkeypatch):
    monkeypatch.setattr(owners, "MAX_RUNS", 3)
    assert owners.over_limit(mine, root, 2) == ""
    msg = owners.over_limit(mine, root, 3)
    assert "3 runs" in msg and "delete one to train another" in msg
    assert owners.over_limit(mine, root, 4)


def write(path, megabytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * int(megabytes * 1e6))


def test_the_per_owner_megabytes_count_everything_in_the_owners_folder(root, mine, theirs, monkeypatch):
    monkeypatch.setattr(owners, "MAX_MB", 1.0)
    write(theirs / "big" / "model.safetensors", 5)  # someone else's runs do not count against me
    write(mine / "a" / "model.safetensors", 0.6)
    assert owners.over_limit(mine, root, 1) == ""
    write(mine / ".jobs" / "j" / "fit_state.x.safetensors", 0.5)  # a training's files count too
    msg = owners.over_limit(mine, root, 1)
    assert "1 MB" in msg and "delete one to train another" in msg
    assert owners.over_limit(theirs, root, 1)


def test_a_full_disk_stops_everyone_and_says_to_come_back(root, mine, theirs, monkeypatch):
    monkeypatch.setattr(owners, "DISK_MB", 2.0)
    write(theirs / "a" / "model.safetensors", 1.5)
    assert owners.over_limit(mine, root, 0) == ""
    write(theirs / "b" / "model.safetensors", 1.0)
    msg = owners.over_limit(mine, root, 0)
    assert "disk" in msg and "try again later" in msg and "Nothing of yours was deleted" in msg


# --- keeping ----------------------------------------------------------------------------------------------------------


def visitor_home(root):
    home = owners.home(owners.visitor(owners.new_visitor_id()), root)
    owners.seen(home, "visitor")
    return home


def test_expire_removes_a_visitor_long_gone_but_keeps_an_account_and_the_root(root, mine, monkeypatch):
    monkeypatch.setattr(owners, "KEEP_DAYS", 30.0)
    owners.seen(mine, "account")
    gone = visitor_home(root)
    run = save_old_run(gone, "theirs")
    link = owners.share(run, root)
    mine_link = owners.share(save_old_run(mine, "mine"), root)
    removed = owners.expire(root, now=time.time() + 31 * DAY)
    assert removed == [gone.name] and not gone.exists()
    assert mine.is_dir() and (mine / "mine" / "config.json").is_file()
    assert not [p for p in root.iterdir() if ".expired-" in p.name]  # the folder set aside was removed too
    assert owners.shared_run(link, root) is None and len(list((root / owners.SHARES).iterdir())) == 1
    assert owners.shared_run(mine_link, root) == mine / "mine"


def test_expire_keeps_a_visitor_seen_recently_by_their_last_visit(root, monkeypatch):
    monkeypatch.setattr(owners, "KEEP_DAYS", 30.0)
    now = time.time()
    old, recent = visitor_home(root), visitor_home(root)
    age(old / owners.OWNER_FILE, 31, now)
    age(recent / owners.OWNER_FILE, 29, now)
    age(recent, 400, now)  # the folder's own mtime is not the visit
    assert owners.expire(root, now=now) == [old.name]
    assert recent.is_dir() and not old.exists()
    owners.seen(recent, "visitor")  # a visit today: kept 30 days from now
    assert owners.expire(root, now=now + 29 * DAY) == [] and recent.is_dir()


def test_expire_falls_back_to_the_folders_mtime_when_the_visit_is_not_noted(root):
    now = time.time()
    unmarked = owners.home(owners.visitor(owners.new_visitor_id()), root)
    age(unmarked, owners.KEEP_DAYS + 1, now)
    assert owners.expire(root, now=now) == [unmarked.name] and not unmarked.exists()


def job(home, name, *kinds, days=0.0, now=None):
    path = home / ".jobs" / name
    path.mkdir(parents=True)
    for kind in kinds:
        runlog.append(path, kind, state="done", message="")
    for p in (*path.iterdir(), path):
        age(p, days, now)
    return path


def test_expire_removes_ended_job_folders_after_a_day_but_never_running_ones(root, mine):
    now = time.time()
    owners.seen(mine, "account")
    old_end = job(mine, "old-end", "begin", "epoch", "end", days=owners.JOB_DAYS + 0.5, now=now)
    running = job(mine, "running", "begin", "epoch", days=5, now=now)  # no end event: a worker may still write
    recent_end = job(mine, "recent-end", "begin", "end", days=owners.JOB_DAYS / 2, now=now)
    not_begun = job(mine, "queued", days=5, now=now)  # no log yet
    assert owners.expire(root, now=now) == ["old-end"]
    assert not old_end.exists() and running.is_dir() and recent_end.is_dir() and not_begun.is_dir()
    assert not [p for p in (mine / ".jobs").iterdir() if ".expired-" in p.name]


def test_expire_removes_share_entries_whose_run_is_gone(root, mine, shared):
    run, name = shared
    kept = owners.share(save_old_run(mine, "kept"), root)
    runstore.delete_run(run, runs_dir=mine)
    forge(root, "F" * 22, owner="0" * 32, folder="nothing")
    assert owners.expire(root) == []
    left = {p.stem for p in (root / owners.SHARES).iterdir()}
    assert left == {kept.removeprefix(owners.SHARED)}


def test_expire_on_a_missing_root_does_nothing(tmp_path):
    assert owners.expire(tmp_path / "nowhere") == [] and not (tmp_path / "nowhere").exists()
