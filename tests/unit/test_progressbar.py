"""medlab.progressbar: one progress display for every long operation (census, C-STORE)."""

from __future__ import annotations

import pytest

from medlab import progressbar
from medlab.progressbar import progress_bar


def test_outside_a_notebook_it_prints_one_line_on_stderr(capsys):
    assert list(progress_bar(range(5), description="census")) == [0, 1, 2, 3, 4]
    err = capsys.readouterr().err
    assert err.endswith("\rcensus 5/5\n") and "\rcensus 1/5" in err
    assert not progressbar.in_notebook()


def test_updates_are_throttled(capsys):
    list(progress_bar(range(10_000), description="x"))
    assert capsys.readouterr().err.count("\r") <= progressbar.UPDATES + 2


def test_an_iterable_without_length_counts_without_total(capsys):
    list(progress_bar(iter("abc"), description="items"))
    assert capsys.readouterr().err.endswith("\ritems 3\n")


def test_in_a_kernel_it_shows_an_ipywidgets_bar(monkeypatch):
    shown = []
    monkeypatch.setattr(progressbar, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    assert list(progress_bar(["a", "b", "c"], description="C-STORE")) == ["a", "b", "c"]
    (bar,) = shown
    assert (bar.value, bar.max, bar.description, bar.bar_style) == (3, 3, "C-STORE", "success")


def test_a_bar_that_stops_early_says_so(monkeypatch):
    shown = []
    monkeypatch.setattr(progressbar, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", shown.append)
    with pytest.raises(ZeroDivisionError):
        for n in progress_bar([1, 2, 0, 4], description="census"):
            1 / n
    (bar,) = shown
    assert (bar.value, bar.max, bar.bar_style) == (2, 4, "warning")


def test_census_uses_it(tmp_path, capsys):
    import medlab.data
    import medlab.dicom

    df = medlab.dicom.census(medlab.data.study("ct_phantom"), progress=True)
    assert capsys.readouterr().err.endswith(f"\rcensus {len(df)}/{len(df)}\n")
