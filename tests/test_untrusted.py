"""What this project reads but does not trust (README, "What is trusted"): CIFAR-10 folders,
run folders, and the text of pages and catalogs. Each hostile input here must be refused with
one clear message, before anything in it runs."""
import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_experiment import ROOT, SMALL, cifar10, experiment, run_folders, run_script, write_cifar

from conftest import PROJECT  # noqa: E402
from mkdocs_literate import directives, splitter  # noqa: E402
from mkdocs_literate.page import render_page  # noqa: E402
from mkdocs.exceptions import PluginError  # noqa: E402


# ---------------------------------------------------------------------------------------------
# CIFAR-10 folders: pickles that would run code


class Command:
    """Unpickling this runs `function(*args)`: the classic pickle attack."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


class Thing:
    """An ordinary object of a class that a CIFAR-10 batch never holds."""

    def __init__(self):
        self.data = np.zeros((2, 3072), np.uint8)


def good_batch(n: int = 10) -> dict:
    return {b"batch_label": b"x", b"labels": list(range(n)),
            b"data": np.zeros((n, 3072), np.uint8), b"filenames": [b"a.png"] * n}


def hostile_batches(marker: Path) -> dict:
    touch = f"touch {marker}"
    return {
        "os.system": Command(os.system, touch),
        "builtins.eval": Command(eval, f"open({str(marker)!r}, 'w')"),
        "subprocess.Popen": Command(subprocess.Popen, ["touch", str(marker)]),
        "nested object": {**good_batch(), b"data": Thing()},
        "exec in a list": {**good_batch(), b"labels": [Command(exec, f"open({str(marker)!r}, 'w')")]},
    }


def folder_with(tmp_path: Path, name: str, content: bytes) -> Path:
    """A CIFAR-10 folder (the small test set) whose file `name` holds `content`."""
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    (folder / name).write_bytes(content)
    return folder


@pytest.mark.parametrize("attack", ["os.system", "builtins.eval", "subprocess.Popen", "nested object",
                                    "exec in a list"])
@pytest.mark.parametrize("protocol", [2, 5])
def test_a_hostile_pickle_is_refused_before_it_runs(tmp_path, attack, protocol):
    marker = tmp_path / "ran"
    folder = folder_with(tmp_path, "data_batch_1", pickle.dumps(hostile_batches(marker)[attack], protocol=protocol))
    with pytest.raises(SystemExit) as raised:
        cifar10.load_cifar10(tmp_path)
    message = str(raised.value.code)
    assert not marker.exists()
    assert message.startswith(f"{folder / 'data_batch_1'} was refused: it asks for ")
    assert "Nothing in it was run" in message


def test_the_refusal_names_the_forbidden_global(tmp_path):
    folder_with(tmp_path, "test_batch", pickle.dumps(Command(subprocess.Popen, ["true"]), protocol=2))
    with pytest.raises(SystemExit) as raised:
        cifar10.load_cifar10(tmp_path)
    assert "it asks for subprocess.Popen, which a CIFAR-10 batch never holds" in str(raised.value.code)


def test_the_command_line_refuses_it_in_one_line(tmp_path):
    """The attack of the issue, as a user would meet it: nothing runs, no traceback, no run folder."""
    marker = tmp_path / "ran"
    folder_with(tmp_path / "data", "data_batch_1", pickle.dumps(Command(os.system, f"touch {marker}"), protocol=2))
    out = tmp_path / "runs"
    result = run_script("--data-dir", str(tmp_path / "data"), "--no-download", "--out", str(out), *SMALL)
    assert result.returncode == 1
    assert not marker.exists() and not out.exists()
    assert "Traceback" not in result.stderr
    assert "data_batch_1 was refused: it asks for posix.system" in result.stderr


def test_an_out_of_band_buffer_is_refused(tmp_path):
    """Protocol 5 can keep an array's bytes outside the pickle; a file cannot supply them."""
    buffers = []
    content = pickle.dumps({**good_batch(), b"data": pickle.PickleBuffer(np.zeros((10, 3072), np.uint8))},
                           protocol=5, buffer_callback=buffers.append)
    assert buffers  # the bytes really were left out
    folder_with(tmp_path, "data_batch_4", content)
    with pytest.raises(SystemExit) as raised:
        cifar10.load_cifar10(tmp_path)
    assert "data_batch_4 is truncated or corrupt" in str(raised.value.code)
    assert "out-of-band data" in str(raised.value.code)


def test_codecs_is_allowed_only_for_the_latin1_of_bytes(tmp_path):
    """Python 3 pickles `bytes` at protocol 2 as `_codecs.encode(text, "latin1")`; nothing else is let through."""
    class Encode:
        def __reduce__(self):
            import _codecs
            return _codecs.encode, ("abc", "rot13")
    folder_with(tmp_path, "data_batch_1", pickle.dumps({**good_batch(), b"batch_label": Encode()}, protocol=2))
    with pytest.raises(SystemExit) as raised:
        cifar10.load_cifar10(tmp_path)
    assert "_codecs.encode with 'rot13'" in str(raised.value.code)


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_every_protocol_of_an_honest_batch_loads(tmp_path, protocol):
    """Honest files load whatever pickle protocol wrote them (numpy arrays, numpy ints, bytes keys)."""
    batch = {**good_batch(), b"labels": [np.int64(i % 10) for i in range(10)]}
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    (folder / "test_batch").write_bytes(pickle.dumps(batch, protocol=protocol))
    images, labels = cifar10.read_batch(folder / "test_batch")
    assert images.shape == (10, 3, 32, 32) and labels.tolist() == [i % 10 for i in range(10)]


@pytest.mark.parametrize("change, expected", [
    (lambda b: {**b, b"labels": [float(v) for v in b[b"labels"]]}, "'labels' should be integers"),
    (lambda b: {**b, b"labels": [str(v) for v in b[b"labels"]]}, "'labels' should be integers"),
    (lambda b: {**b, b"labels": [-1] * len(b[b"labels"])}, "labels should be 0…9"),
    (lambda b: {**b, b"data": b[b"data"].astype(np.int16)}, "uint8 [N, 3072]"),
    (lambda b: {**b, b"data": b[b"data"].reshape(-1, 3, 32, 32)}, "uint8 [N, 3072]"),
    (lambda b: {**b, b"data": [[1, 2], [3]]}, "not a valid CIFAR-10 batch"),
    (lambda b: [b], "not a dict"),
    (lambda b: {1: 2}, "its keys should be names, but they are ['int']"),
])
def test_a_wrong_batch_is_one_message(tmp_path, change, expected):
    folder = folder_with(tmp_path, "data_batch_2", pickle.dumps(change(good_batch()), protocol=2))
    with pytest.raises(SystemExit) as raised:
        cifar10.read_batch(folder / "data_batch_2")
    assert "data_batch_2" in str(raised.value.code) and expected in str(raised.value.code)


@pytest.mark.parametrize("names", [None, 10, ["a"] * 9, [1] * 10])
def test_a_wrong_meta_file_is_one_message(tmp_path, names):
    folder_with(tmp_path, "batches.meta", pickle.dumps({b"label_names": names}, protocol=2))
    with pytest.raises(SystemExit) as raised:
        cifar10.load_cifar10(tmp_path)
    assert "batches.meta is not CIFAR-10's" in str(raised.value.code)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=400))
def test_any_bytes_end_in_a_message(tmp_path_factory, content):
    """Whatever a file holds, reading it ends in a batch or in one message, never in a traceback."""
    path = tmp_path_factory.mktemp("b") / "data_batch_1"
    path.write_bytes(content)
    try:
        cifar10.read_batch(path)
    except SystemExit as stop:
        assert isinstance(stop.code, str) and str(path) in stop.code


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0), protocol=st.sampled_from([2, 5]))
def test_a_truncated_batch_is_one_message(tmp_path_factory, cut, protocol):
    content = pickle.dumps(good_batch(), protocol=protocol)
    path = tmp_path_factory.mktemp("b") / "data_batch_1"
    path.write_bytes(content[:cut % len(content)])
    with pytest.raises(SystemExit) as raised:
        cifar10.read_batch(path)
    assert str(path) in str(raised.value.code)


def test_the_run_records_whether_the_data_was_official(tmp_path):
    """Our test data is not the official CIFAR-10, and config.json says so."""
    data = write_cifar(tmp_path / "data", n_train=128, n_test=64)
    experiment.main(["--data-dir", str(data), "--out", str(tmp_path / "runs"), "--epochs", "1", *SMALL])
    (folder,) = run_folders(tmp_path / "runs")
    assert json.loads((folder / "config.json").read_text())["recorded"]["official_cifar10"] is False
    assert cifar10.official_files(data / "cifar-10-batches-py") is False


def test_official_files_are_recognised_by_their_md5(tmp_path, monkeypatch):
    folder = write_cifar(tmp_path, n_train=50, n_test=20) / "cifar-10-batches-py"
    import hashlib
    digests = {name: hashlib.md5((folder / name).read_bytes()).hexdigest() for name in cifar10.OFFICIAL_MD5}
    monkeypatch.setattr(cifar10, "OFFICIAL_MD5", digests)
    assert cifar10.official_files(folder)
    (folder / "test_batch").write_bytes(b"changed")
    assert not cifar10.official_files(folder)


# ---------------------------------------------------------------------------------------------
# Run folders: config.json and checkpoints


@pytest.fixture(scope="module")
def a_run(tmp_path_factory) -> Path:
    data = write_cifar(tmp_path_factory.mktemp("data"), n_train=128, n_test=64)
    out = tmp_path_factory.mktemp("runs")
    experiment.main(["--data-dir", str(data), "--out", str(out), "--epochs", "1", *SMALL])
    (folder,) = run_folders(out)
    return folder


@pytest.mark.parametrize("edit, expected", [
    (lambda c: {**c, "epochs": "3"}, 'epochs = "3" is not a whole number'),
    (lambda c: {**c, "lr": True}, "lr = true is not a number"),
    (lambda c: {**c, "compile": 1}, "compile = 1 is not true or false"),
    (lambda c: {**c, "schedule": "cosine"}, 'schedule = "cosine" is not one of "onecycle", "step"'),
    (lambda c: {**c, "milestones": ["a"]}, "milestones = [\"a\"] is not a list of numbers"),
    (lambda c: {**c, "__class__": "x"}, "'__class__' is not a setting"),
    (lambda c: [c], "should hold a JSON object of settings, not a list"),
])
def test_a_hand_edited_config_is_one_message(a_run, tmp_path, edit, expected):
    folder = tmp_path / "run"
    folder.mkdir()
    config = json.loads((a_run / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps(edit(config)))
    with pytest.raises(SystemExit) as raised:
        experiment.main(["--resume", str(folder)])
    assert expected in str(raised.value.code)


def test_a_config_with_bad_values_is_refused_like_flags(a_run, tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    config = json.loads((a_run / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "batch_size": -4, "model": "os.system"}))
    with pytest.raises(SystemExit):
        experiment.main(["--resume", str(folder)])
    err = capsys.readouterr().err
    assert "--batch-size must be at least 1" in err and "--model 'os.system' is not a CIFAR model" in err


def test_a_config_that_is_not_json_is_one_message(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(SystemExit) as raised:
        experiment.main(["--resume", str(tmp_path)])
    assert "is not a readable config.json" in str(raised.value.code)


def test_a_checkpoint_that_would_run_code_is_refused(a_run, tmp_path):
    """`torch.load(..., weights_only=True)`: a checkpoint can hold tensors and plain values only."""
    import shutil
    marker = tmp_path / "ran"
    folder = tmp_path / "run"
    shutil.copytree(a_run, folder)
    with open(folder / "checkpoint.pt", "wb") as f:
        pickle.dump(Command(os.system, f"touch {marker}"), f)
    result = run_script("--resume", str(folder))
    assert result.returncode == 1 and not marker.exists()
    assert "checkpoint.pt cannot be resumed" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------------------------
# Page text: `<!-- md: … -->` calls registered Markdown writers only


@pytest.fixture
def importable(tmp_path, monkeypatch):
    """A module `evil` on sys.path that leaves a marker when it is imported."""
    marker = tmp_path / "imported"
    (tmp_path / "evil.py").write_text(f"open({str(marker)!r}, 'w').close()\ndef table():\n    return 'x'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    return marker


@pytest.mark.parametrize("call, why", [
    ('subprocess.getoutput("touch {marker}")', "subprocess.getoutput is not a registered Markdown writer"),
    ('os.system("touch {marker}")', "os.system is not a registered Markdown writer"),
    ('builtins.eval("open(\'{marker}\', \'w\')")', "builtins.eval is not a registered Markdown writer"),
    ("evil.table()", "evil.table is not a registered Markdown writer"),
    ("labml_resnet.shapes.__builtins__()", "is not a registered Markdown writer"),
    ("labml_resnet.shapes.count_parameters(1)", "labml_resnet.shapes.count_parameters is not a registered"),
    ("labml_resnet.shapes.shape_table_markdown(__import__('os'), 1)", "its arguments must be literals"),
    ("labml_resnet.shapes.shape_table_markdown(**{'model_name': 'resnet18'})", "its arguments must be literals"),
    ('labml_resnet.shapes.shape_table_markdown("resnet18", 224, 3)', "too many positional arguments"),
    ("labml_resnet.shapes.parameter_table_markdown", "not a call"),
    ("(lambda: 1)()", "is not a registered Markdown writer"),
])
def test_a_page_cannot_run_code(tmp_path, importable, call, why):
    call = call.replace("{marker}", str(tmp_path / "ran"))
    page = f"# A page\n\nSome text.\n<!-- md: {call} -->\n"
    with pytest.raises(PluginError) as raised:
        directives.expand_directives(page, tmp_path, where="guide.ja.md")
    assert str(raised.value).startswith("guide.ja.md:4: ") and why in str(raised.value)
    assert not (tmp_path / "ran").exists() and not importable.exists()
    assert "evil" not in sys.modules


def test_the_writers_are_a_closed_list():
    """Exactly the functions the pages use, each one returning Markdown."""
    writers = directives.markdown_writers()
    assert "mkdocs_literate.glossary_markdown" in writers and "labml_resnet.shapes.parameter_table_markdown" in writers
    assert all(name.startswith(("labml_resnet.", "mkdocs_literate.")) for name in writers)


def test_the_build_fails_on_the_page_and_line(tmp_path):
    """The whole of `mkdocs build`, on a site whose page asks for a shell command."""
    marker = tmp_path / "ran"
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(f'# Home\n\n<!-- md: subprocess.getoutput("touch {marker}") -->\n')
    (tmp_path / "mkdocs.yml").write_text(textwrap.dedent(f"""\
        site_name: attack
        plugins:
          - literate
        """))
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "-f", str(tmp_path / "mkdocs.yml"),
                             "-d", str(tmp_path / "site")], capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and not marker.exists()
    assert "index.md:3: <!-- md: subprocess.getoutput" in result.stderr
    assert "is not a registered Markdown writer" in result.stderr


# ---------------------------------------------------------------------------------------------
# The splitter reads code; it never runs it


def test_the_splitter_does_not_run_the_file(tmp_path):
    marker = tmp_path / "ran"
    source = tmp_path / "chapter.py"
    source.write_text(f'r"""\n---\ntitle: T\n---\n# T\n"""\n\n# Notes\nopen({str(marker)!r}, "w").close()\n')
    render_page(source, "chapter.py", "https://example.org/repo")
    splitter.split_source(source.read_text())
    assert not marker.exists()


# ---------------------------------------------------------------------------------------------
# The Pages workflow: only the deploy job may write


def test_only_the_deploy_job_may_write():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "pages.yml").read_text())
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert "permissions" not in jobs["build"]  # the workflow's read-only default
    assert jobs["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}
    # The build step runs our hooks; it must not be the job that deploys
    assert not any("deploy-pages" in str(step.get("uses", "")) for step in jobs["build"]["steps"])
