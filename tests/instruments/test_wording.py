"""Site wording files: loaded only when they match the definition exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from spinepath.instruments import catalogue
from spinepath.instruments.errors import WordingFileError
from spinepath.instruments.wording import find_wording, load_wording, wording_required_message


def _fixture(wording_dir: Path) -> dict[str, object]:
    data = yaml.safe_load((wording_dir / "odi.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _write(tmp_path: Path, data: object, name: str = "odi.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_it_loads_a_matching_wording_file(wording_dir: Path) -> None:
    wording = find_wording(catalogue.get("odi"), wording_dir)
    assert wording is not None
    assert wording.items["lifting"].options["5"].startswith("PLACEHOLDER")


def test_an_instrument_without_a_wording_file_has_none(wording_dir: Path) -> None:
    assert find_wording(catalogue.get("ndi"), wording_dir) is None
    assert find_wording(catalogue.get("ndi"), None) is None


def test_it_rejects_a_wording_directory_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(WordingFileError, match="not a directory"):
        find_wording(catalogue.get("odi"), tmp_path / "absent")


def test_it_rejects_wording_with_a_different_version(tmp_path: Path, wording_dir: Path) -> None:
    data = {**_fixture(wording_dir), "version": "2.0"}
    with pytest.raises(WordingFileError, match=r"version '2\.0'"):
        load_wording(catalogue.get("odi"), _write(tmp_path, data))


def test_it_rejects_wording_for_another_instrument(tmp_path: Path, wording_dir: Path) -> None:
    data = {**_fixture(wording_dir), "instrument": "ndi"}
    with pytest.raises(WordingFileError, match="is for 'ndi'"):
        load_wording(catalogue.get("odi"), _write(tmp_path, data))


def test_it_names_an_item_without_wording(tmp_path: Path, wording_dir: Path) -> None:
    data = _fixture(wording_dir)
    items = dict(data["items"])  # type: ignore[call-overload]
    del items["sitting"]
    with pytest.raises(WordingFileError, match="item 'sitting' has no wording"):
        load_wording(catalogue.get("odi"), _write(tmp_path, {**data, "items": items}))


def test_it_names_a_missing_option(tmp_path: Path, wording_dir: Path) -> None:
    data = _fixture(wording_dir)
    items = dict(data["items"])  # type: ignore[call-overload]
    items["walking"] = {"text": "x", "options": {str(v): "x" for v in range(5)}}
    with pytest.raises(WordingFileError, match="item 'walking': option\\(s\\) 5 missing"):
        load_wording(catalogue.get("odi"), _write(tmp_path, {**data, "items": items}))


def test_it_names_an_unknown_item(tmp_path: Path, wording_dir: Path) -> None:
    data = _fixture(wording_dir)
    items = {**data["items"], "driving": {"text": "x"}}  # type: ignore[dict-item]
    with pytest.raises(WordingFileError, match="unknown item\\(s\\) driving"):
        load_wording(catalogue.get("odi"), _write(tmp_path, {**data, "items": items}))


def test_it_reports_a_file_that_is_not_valid_yaml(tmp_path: Path) -> None:
    path = tmp_path / "odi.yaml"
    path.write_text("items: [unclosed", encoding="utf-8")
    with pytest.raises(WordingFileError, match="not valid YAML"):
        load_wording(catalogue.get("odi"), path)


def test_it_names_a_missing_required_field(tmp_path: Path, wording_dir: Path) -> None:
    data = _fixture(wording_dir)
    del data["source"]
    with pytest.raises(WordingFileError, match="source: Field required"):
        load_wording(catalogue.get("odi"), _write(tmp_path, data))


def test_the_wording_required_message_says_where_to_put_the_file() -> None:
    message = wording_required_message(catalogue.get("odi"))
    assert "SPINEPATH_INSTRUMENT_WORDING_DIR" in message
    assert "odi.yaml" in message
