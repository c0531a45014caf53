"""Docs that cannot drift: the documentation's config table, the schema and config.yaml agree."""

import inspect
import re

import yaml

from conftest import ROOT, documentation, documentation_pages
from eegflow.features import FEATURES

SCHEMA = yaml.safe_load(
    (ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text()
)


def schema_leaves(node=SCHEMA, prefix=""):
    """{dotted key: its schema} for every setting (objects with properties are opened)."""
    leaves = {}
    for name, child in node.get("properties", {}).items():
        key = f"{prefix}{name}"
        if child.get("type") == "object" and "properties" in child:
            leaves.update(schema_leaves(child, f"{key}."))
        else:
            leaves[key] = child
    return leaves


def readme_config_rows():
    """[(keys, default cell)] of the README's configuration table; a row's later keys
    (`.tmax`) are siblings of its first (`preprocess.crop.tmin`)."""
    table = (
        documentation().split("| key | default | meaning |", 1)[1].split("\n\n", 1)[0]
    )
    rows = []
    for line in table.strip().splitlines()[1:]:
        key_cell, default_cell = line.split(" | ")[:2]
        names = re.findall(r"`([^`]+)`", key_cell)
        parent = names[0].rsplit(".", 1)[0]
        keys = [names[0]] + [parent + name for name in names[1:]]
        rows.append((keys, default_cell))
    return rows


def test_every_readme_key_is_in_the_schema_with_that_default():
    leaves = schema_leaves()
    for keys, default_cell in readme_config_rows():
        if keys[0].endswith(".*"):  # a whole section described in prose
            assert any(key.startswith(keys[0][:-1]) for key in leaves), keys
            continue
        # backticked values, or prose ("all") that is not compared; one value for all keys
        defaults = [
            item.strip() for item in re.findall(r"`[^`]*`|[^,`]+", default_cell)
        ]
        defaults = [item for item in defaults if item]
        if len(defaults) == 1:
            defaults = defaults * len(keys)
        for key, default in zip(keys, defaults):
            assert key in leaves, f"README names {key}, which the schema lacks"
            if default.startswith("`"):
                written = yaml.safe_load(default.strip("`"))
                assert written == leaves[key].get("default"), (key, written)


def test_every_schema_key_is_in_the_readme_and_described():
    documented = {key for keys, _ in readme_config_rows() for key in keys}
    for key, schema in schema_leaves().items():
        section = key.rsplit(".", 1)[0] + ".*"
        assert key in documented or section in documented, f"{key} is not in the README"
        assert "default" in schema, f"{key} has no default in the schema"


def test_config_yaml_shows_the_schema_defaults():
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    leaves = schema_leaves()

    def walk(node, prefix=""):
        for name, value in node.items():
            key = f"{prefix}{name}"
            if key in leaves:
                assert value == leaves[key]["default"], (
                    key,
                    value,
                    leaves[key]["default"],
                )
            else:
                walk(value, f"{key}.")

    walk(config)


def test_every_registered_feature_is_in_the_readme_feature_tables():
    from eegflow.features import FEATURES

    features = documentation().split("# Features\n", 1)[1].split("\n## ", 1)[0]
    named = {
        name
        for line in features.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([a-z_]+)`", line.split(" | ")[0])
    }
    assert sorted(set(FEATURES) - named) == []


def test_every_feature_has_a_numpydoc_docstring_with_formula_and_reference():
    """Parameters (each config parameter), Returns, Notes (the formula and the
    convention) and References, as antropy and mne-features document theirs."""
    for name, feature in FEATURES.items():
        doc = inspect.getdoc(feature.function)
        for section in ("Returns", "Notes", "References"):
            assert f"\n{section}\n{'-' * len(section)}\n" in doc, (name, section)
        parameters = list(inspect.signature(feature.function).parameters)[1:]
        if parameters:
            listed = doc.split("Parameters\n----------\n", 1)[1].split("\nReturns")[0]
            documented = {
                word
                for line in listed.splitlines()
                if " : " in line
                for word in line.split(" : ")[0].split(", ")
            }
            assert documented == set(parameters), name
        assert ".. [1] " in doc, name


def test_suffix_functions_take_parameters_they_do_not_name():
    required = {"bands": {"alpha": [8, 12]}}
    for name, feature in FEATURES.items():
        signature = inspect.signature(feature.function)
        params = {
            p: required[p] for p in list(signature.parameters)[1:] if p in required
        }
        params = feature.parameters(params)
        assert feature.suffixes(**params, a_parameter_added_later=1) == (
            feature.suffixes(**params)
        ), name


def test_one_statement_of_what_null_picks_keep():
    """config.yaml's comment, the schema's description and the README say the same
    channel types, and they are the ones preprocess keeps (cleaning.EEG_FAMILY)."""
    from eegflow.cleaning import EEG_FAMILY

    statement = f"the EEG channels ({', '.join(EEG_FAMILY)})"
    comment = next(
        line for line in (ROOT / "config.yaml").read_text().splitlines()
        if line.strip().startswith("picks:")
    )  # fmt: skip
    assert comment.endswith(f"null = {statement}"), comment
    assert statement in schema_leaves()["preprocess.picks"]["description"]
    readme_row = next(
        line for line in documentation().splitlines()
        if line.startswith("| `preprocess.picks`")
    )  # fmt: skip
    in_code = ", ".join(f"`{kind}`" for kind in EEG_FAMILY)
    assert f"`null` = the EEG channels ({in_code})" in readme_row, readme_row


def heading_anchors(text):
    """GitHub's anchors of a Markdown page's headings (code blocks skipped)."""
    anchors, fenced = set(), False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"#+ (.+)", line)):
            anchor = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())
            anchors.add(anchor.replace(" ", "-"))
    return anchors


def test_readme_is_short_and_links_every_page_that_exists():
    from conftest import DOCS

    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 300
    linked = set(re.findall(r"\]\((workflow/docs/[\w.-]+\.md)", readme))
    assert linked == {f"workflow/docs/{page.name}" for page in DOCS.glob("*.md")}
    for page in documentation_pages():
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if target.startswith(("http://", "https://")):
                continue
            path, _, anchor = target.partition("#")
            linked_page = (page.parent / path).resolve() if path else page
            assert linked_page.exists(), (page.name, target)
            if anchor:
                anchors = heading_anchors(linked_page.read_text())
                assert anchor in anchors, (page.name, target)


def test_the_documentation_speaks_to_users_not_of_its_history():
    for page in documentation_pages():
        text = page.read_text()
        found = re.findall(
            r"\b(?:this|last|earlier) (?:round|stop|session)\b|\bissue \d+\b", text
        )
        assert not found, (page.name, found)
