"""spinepath's own wording of the generic measures: present, complete, replaceable by a site
file, and never shipped for a licensed questionnaire. Installing a site file is all or nothing."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from pathlib import Path

import pytest
import yaml

from spinepath.instruments import catalogue
from spinepath.instruments.errors import WordingFileError
from spinepath.instruments.progress import SeriesEntry, progress
from spinepath.instruments.site_wording import (
    MAX_WORDING_BYTES,
    WordingTooLargeError,
    check_file,
    directory_to_read,
    install,
    installed_file,
    remove,
    site_directory,
)
from spinepath.instruments.wording import BUNDLED_DIR, bundled_wording, find_wording

GENERIC = ("global_change", "nrs_arm", "nrs_back", "nrs_leg", "nrs_neck")
LICENSED = ("ndi", "odi", "peg3", "rmdq", "startback")
PAIN_RATINGS = ("nrs_arm", "nrs_back", "nrs_leg", "nrs_neck")


def _bundled_files() -> set[str]:
    folder = resources.files("spinepath.instruments").joinpath(BUNDLED_DIR)
    return {p.name for p in folder.iterdir() if p.name.endswith(".yaml")}


def test_exactly_the_generic_measures_have_a_bundled_file() -> None:
    assert _bundled_files() == {f"{code}.yaml" for code in GENERIC}


@pytest.mark.parametrize("code", GENERIC)
def test_a_generic_measure_is_worded_without_any_site_file(code: str) -> None:
    wording = find_wording(catalogue.get(code), None)
    assert wording is not None
    assert wording.source.startswith("spinepath's own wording")


@pytest.mark.parametrize("code", LICENSED)
def test_a_licensed_questionnaire_has_no_wording_without_a_site_file(code: str) -> None:
    assert bundled_wording(catalogue.get(code)) is None
    assert find_wording(catalogue.get(code), None) is None


@pytest.mark.parametrize("code", PAIN_RATINGS)
def test_the_pain_ratings_ask_for_the_average_over_the_last_week(code: str) -> None:
    definition = catalogue.get(code)
    wording = bundled_wording(definition)
    assert wording is not None
    item = wording.items["intensity"]
    assert "last week" in item.text
    assert "on average" in item.text
    assert item.options == {"0": "no pain", "10": "worst pain imaginable"}
    assert definition.recall_period.text == "average over the last week"


def test_the_change_rating_runs_from_very_much_better_to_very_much_worse() -> None:
    wording = bundled_wording(catalogue.get("global_change"))
    assert wording is not None
    options = wording.items["change"].options
    assert list(options.values()) == [
        "Very much better",
        "Much better",
        "A little better",
        "About the same",
        "A little worse",
        "Much worse",
        "Very much worse",
    ]


def test_a_change_rating_has_no_baseline_and_is_read_by_its_band() -> None:
    # Answers 3 ("a little better") then 1 ("very much better"): two ratings of change, not a
    # baseline and a change of -2.
    entries = [
        SeriesEntry(date=d, instrument="global_change", answers={"change": v})
        for d, v in ((dt.date(2026, 3, 1), 3), (dt.date(2026, 4, 12), 1))
    ]
    (series,) = progress(entries, today=dt.date(2026, 5, 1)).series
    assert series.baseline_score is None
    assert [p.change for p in series.points] == [None, None]
    assert [p.band.code if p.band else None for p in series.points] == [
        "about_the_same",
        "improved",
    ]
    assert series.schedule == []
    assert "rates change itself" in series.mcid.responder_definition


def test_a_site_file_replaces_the_bundled_wording(tmp_path: Path) -> None:
    data = yaml.safe_load(
        resources.files("spinepath.instruments")
        .joinpath(BUNDLED_DIR, "nrs_back.yaml")
        .read_text(encoding="utf-8")
    )
    data["items"]["intensity"]["text"] = "SITE: how much does your back hurt?"
    (tmp_path / "nrs_back.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    wording = find_wording(catalogue.get("nrs_back"), tmp_path)
    assert wording is not None
    assert wording.items["intensity"].text == "SITE: how much does your back hurt?"


# Checking and installing an uploaded file ------------------------------------------------------


def _odi_file(wording_dir: Path) -> dict[str, object]:
    data = yaml.safe_load((wording_dir / "odi.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _bytes(data: object) -> bytes:
    return yaml.safe_dump(data).encode()


def test_a_complete_file_passes_the_check(wording_dir: Path) -> None:
    checked = check_file(_bytes(_odi_file(wording_dir)), "odi.yaml")
    assert checked.definition.code == "odi"
    assert checked.format == "yaml"


@pytest.mark.parametrize(
    ("change", "name", "message"),
    [
        (lambda d: d.update(instrument="horoscope"), "x.yaml", "unknown instrument 'horoscope'"),
        (lambda d: d["items"].pop("sitting"), "odi.yaml", "item 'sitting' has no wording"),
        (
            lambda d: d["items"]["lifting"]["options"].update({"9": "extra"}),
            "odi.yaml",
            "item 'lifting': unknown option(s) 9",
        ),
        (
            lambda d: d["items"]["lifting"]["options"].pop("3"),
            "odi.yaml",
            "item 'lifting': option(s) 3 missing",
        ),
        (lambda d: d.pop("source"), "odi.yaml", "source"),
        (lambda d: None, "odi.txt", "must be a .yaml, .yml or .json file"),
    ],
)
def test_a_bad_file_is_refused_naming_what_is_wrong(
    wording_dir: Path, change: object, name: str, message: str
) -> None:
    data = _odi_file(wording_dir)
    change(data)  # type: ignore[operator]
    with pytest.raises(WordingFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        check_file(_bytes(data), name)


def test_a_file_that_is_not_yaml_is_refused() -> None:
    with pytest.raises(WordingFileError, match="is not valid YAML"):
        check_file(b"instrument: [odi\n  - : :", "odi.yaml")
    with pytest.raises(WordingFileError, match="is not valid JSON"):
        check_file(b"{not json", "odi.json")
    with pytest.raises(WordingFileError, match="not UTF-8"):
        check_file("instrument: odi".encode("utf-16"), "odi.yaml")


def test_an_oversized_file_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(WordingTooLargeError, match="larger than 64 KiB"):
        check_file(b"#" * (MAX_WORDING_BYTES + 1), "odi.yaml")


def test_install_writes_the_file_where_it_is_read_and_replaces_another_format(
    tmp_path: Path, wording_dir: Path
) -> None:
    directory = site_directory(None, tmp_path)
    assert directory == tmp_path / "wording"
    assert directory_to_read(None, tmp_path) is None
    data = _odi_file(wording_dir)
    install(directory, check_file(_bytes(data), "odi.yaml"))
    assert directory_to_read(None, tmp_path) == directory
    install(directory, check_file(json.dumps(data).encode(), "odi.json"))
    assert sorted(p.name for p in directory.iterdir()) == ["odi.json"]
    assert installed_file(directory, "odi") == directory / "odi.json"
    assert find_wording(catalogue.get("odi"), directory) is not None
    assert remove(directory, "odi") is True
    assert remove(directory, "odi") is False
    assert find_wording(catalogue.get("odi"), directory) is None


def test_a_failed_install_leaves_the_old_file_and_no_partial_file(
    tmp_path: Path, wording_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "site"
    data = _odi_file(wording_dir)
    install(directory, check_file(_bytes(data), "odi.yaml"))
    before = (directory / "odi.yaml").read_bytes()

    def fail(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", fail)
    data["source"] = "a newer copy"
    with pytest.raises(OSError, match="No space left"):
        install(directory, check_file(_bytes(data), "odi.yaml"))
    assert (directory / "odi.yaml").read_bytes() == before
    assert sorted(p.name for p in directory.iterdir()) == ["odi.yaml"]


def test_a_configured_directory_is_read_even_when_missing_so_the_mistake_is_reported(
    tmp_path: Path,
) -> None:
    assert directory_to_read(tmp_path / "absent", tmp_path) == tmp_path / "absent"
    with pytest.raises(WordingFileError, match="not a directory"):
        find_wording(catalogue.get("nrs_back"), tmp_path / "absent")
