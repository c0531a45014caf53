"""What a run says changed since the last successful one (eegflow.changes) and which
code a stage's stamp saw change (eegflow.dependencies.write_code_stamp)."""

import json
from pathlib import Path

from eegflow.changes import describe_changes, setting_changes, write_last_run_config
from eegflow.dependencies import write_code_stamp


def test_setting_changes_name_each_leaf_with_both_values():
    before = {"preprocess": {"filter": {"h_freq": 30, "l_freq": None}, "picks": None}}
    after = {
        "preprocess": {"filter": {"h_freq": 25, "l_freq": None}, "picks": ["eeg"]},
        "windows": {"window_s": 2},
    }
    assert setting_changes(before, after) == [
        ("preprocess.filter.h_freq", 30, 25),
        ("preprocess.picks", None, ["eeg"]),
        ("windows", None, {"window_s": 2}),
    ]


def test_execution_settings_and_a_first_run_say_nothing(tmp_path):
    path = tmp_path / "last.json"
    config = {"windows": {"window_s": 2}, "execution": {"feature_batch_windows": 256}}
    assert describe_changes(config, path) == []  # no earlier run
    write_last_run_config(config, path)
    config["execution"]["feature_batch_windows"] = 8
    assert describe_changes(config, path) == []
    config["windows"]["window_s"] = 30
    assert describe_changes(config, path) == ["config windows.window_s: 2 -> 30"]


def test_long_values_are_shortened(tmp_path):
    path = tmp_path / "last.json"
    write_last_run_config({"preprocess": {"notch": {"freqs": []}}}, path)
    freqs = list(range(50, 2000, 50))
    config = {"preprocess": {"notch": {"freqs": freqs}}}
    (line,) = describe_changes(config, path, limit=40)
    assert line.startswith("config preprocess.notch.freqs: [] -> [50, 100")
    assert line.endswith("...") and len(line) < 80


def test_code_stamp_names_the_edited_module(tmp_path):
    modules = [tmp_path / "a.py", tmp_path / "b.py"]
    for module in modules:
        module.write_text("x = 1\n")
    stamp = tmp_path / "code" / "stage.sha256"
    assert write_code_stamp(stamp, modules) == (str(stamp), [])  # first: no stamp
    assert write_code_stamp(stamp, modules) == (str(stamp), [])  # unchanged
    modules[1].write_text("x = 2\n")
    assert write_code_stamp(stamp, modules) == (str(stamp), [f"{tmp_path.name}/b.py"])


def test_a_stage_s_modules_are_followed_through_its_imports_and_kept_by_content(
    tmp_path, monkeypatch
):
    """What parsing found is kept between starts under each module's content: a start
    with the same modules parses nothing, an edited module is parsed again."""
    from eegflow import dependencies

    package = tmp_path / "eegflow"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from .c import g\n")
    (package / "c.py").write_text("g = 1\n")
    (package / "d.py").write_text("h = 1\n")
    script = tmp_path / "stage.py"
    script.write_text("from eegflow.a import x\n")
    cache = tmp_path / ".snakemake" / "imports.json"

    def new_start():  # what a new Snakemake process starts from
        dependencies._imported_package_modules.cache_clear()
        dependencies._import_cache.cache_clear()
        return [
            Path(path).name
            for path in dependencies.package_modules(script, package, cache)
        ]

    assert new_start() == ["__init__.py", "a.py", "b.py", "c.py"]
    assert len(json.loads(cache.read_text())) == 4  # the script, a, b and c
    parsed = []
    parse = dependencies._imported_names
    monkeypatch.setattr(
        dependencies,
        "_imported_names",
        lambda source, path, in_package: (
            parsed.append(path) or parse(source, path, in_package)
        ),
    )
    assert new_start() == ["__init__.py", "a.py", "b.py", "c.py"]
    assert parsed == []
    (package / "c.py").write_text("from .d import h\ng = 1\n")
    assert new_start() == ["__init__.py", "a.py", "b.py", "c.py", "d.py"]
    assert [Path(path).name for path in parsed] == ["c.py", "d.py"]
