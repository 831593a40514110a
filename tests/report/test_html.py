"""The report's HTML blocks: one number formatter for every cell, and tables that scroll instead of cutting off."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mlengine.report.html import CSS, MISSING, cell, fmt, num, table


@pytest.mark.parametrize("value, text", [
    (15, "15"), (15.0, "15"), (1.0, "1"), (np.int64(7), "7"), (np.float64(3.0), "3"), (1234567, "1,234,567"),
    (0.123456, "0.1235"), (0.5, "0.5000"), (0.8400000001, "0.8400"), (-0.04481234, "-0.04481"),
    (0.3954755846549707, "0.3955"), (12.3456, "12.35"), (12345.6, "12,350"), (0.0, "0"),
    (0.00012345, "0.0001234"), (1.5e-6, "1.500e-06"), (2.4e-7, "2.400e-07"), (1e20, "1.000e+20"),
    (float("nan"), MISSING), (np.nan, MISSING), (None, MISSING), (float("inf"), "∞"), (float("-inf"), "−∞"),
    (True, "yes"), (np.bool_(False), "no"),
])
def test_num(value, text):
    assert num(value) == text


def test_no_number_prints_as_nan_or_with_16_digits():
    rng = np.random.default_rng(0)
    for v in [*rng.normal(size=200), *(rng.normal(size=200) * 1e6), *(rng.uniform(size=200) * 1e-5), np.nan]:
        text = num(float(v))
        assert "nan" not in text.lower() and not re.search(r"\d{9,}|\.\d{8,}", text.replace(",", "")), (v, text)


def test_fmt_and_cell_leave_text_alone():
    assert fmt("lightgbm") == "lightgbm" and cell("ok") == "ok" and fmt(0.41) == "0.4100" and fmt(None) == MISSING
    assert fmt(0.1234567, 3) == "0.123"  # fewer digits where a tile asks for them


def test_table_formats_numbers_in_every_column_and_marks_missing_cells():
    out = table(["setting", "value"], [("threshold", 0.08045545138575552), ("rows", 8946.0), ("error", None),
                                       ("score", float("nan"))])
    assert "0.08046" in out and ">8,946<" in out and "0.0804554" not in out and "nan" not in out
    assert out.count(f'<td title="not recorded">{MISSING}</td>') == 2
    assert out.startswith('<div class="scroll">')  # the wrapper scrolls a wide table horizontally


def test_numeric_columns_are_right_aligned_and_raw_columns_inserted_as_is():
    out = table(["trial", "link"], [(3.0, "<a href='#x'>x</a>")], numeric=(0,), raw=(1,))
    assert '<td class="num">3</td>' in out and "<a href='#x'>x</a>" in out


def test_wide_tables_scroll_inside_their_section():
    assert re.search(r"\.scroll\{[^}]*overflow-x:auto", CSS)
    assert ".grid>div{min-width:0}" in CSS  # a grid cell may shrink, so its table scrolls instead of overflowing
