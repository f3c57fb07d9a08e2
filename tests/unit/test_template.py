"""The template teaches the template: new lessons are copied from notebooks/_template.ipynb,
so what it shows is what they will do."""

from __future__ import annotations

import re

import nbformat
import support

TEMPLATE = support.NOTEBOOKS / "_template.ipynb"


def exercise_sections(path):
    """(N from '## Exercise N', the exercise numbers checked in the cells up to the next heading)."""
    nb = nbformat.read(path, as_version=4)
    found, current = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = re.match(r"##\s+(?:Exercise\s+(\d+)|.)", cell.source)
            if heading:
                current = int(heading.group(1)) if heading.group(1) else None
                if current is not None:
                    found.append((current, []))
        elif current is not None:
            found[-1][1].extend(int(n) for n in re.findall(r"\.ex(\d+)\.check\(", cell.source))
    return found


def test_template_uses_the_study_the_lessons_use():
    source = "\n".join(c.source for c in nbformat.read(TEMPLATE, as_version=4).cells)
    assert 'study("ct_phantom")' in source
    assert 'dataset("ct")' not in source, "pydicom's CT_small has no Body Part Examined"


def test_template_exercise_n_checks_exercise_n():
    """In the template, '## Exercise 1' checks ex1 and '## Exercise 2' checks ex2 (it had them
    swapped, and each new lesson copied the swap)."""
    assert [n for n, _ in exercise_sections(TEMPLATE)] == [1, 2]
    assert [checked for _, checked in exercise_sections(TEMPLATE)] == [[1], [2]]
