"""References resolve: what the spec, the code and the generated docstrings cite is in the repo."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

NOTES = "docs/api-notes.md"


def tracked_texts(root: Path) -> dict[str, str]:
    names = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, check=True, capture_output=True
    ).stdout.decode()
    texts = {}
    for name in filter(None, names.split("\0")):
        path = root / name
        if path.is_file() and not path.is_symlink() and path.suffix in {".py", ".yaml", ".md"}:
            texts[name] = path.read_text("utf-8")
    return texts


def test_the_notes_are_cited_by_their_path_in_the_repository(root: Path) -> None:
    """Every mention of the API notes names docs/api-notes.md; nothing points outside the repo."""
    assert (root / NOTES).is_file()
    wrong = []
    for name, text in tracked_texts(root).items():
        if name == "tests/unit/test_references.py":
            continue  # names what it looks for
        for line_number, line in enumerate(text.splitlines(), 1):
            bare = re.sub(re.escape(NOTES), "", line)
            if "api-notes" in bare or "shared/reference" in line:
                wrong.append(f"{name}:{line_number}: {line.strip()}")
    assert not wrong, "\n".join(wrong)


def test_cited_sections_of_the_notes_exist(root: Path) -> None:
    """`docs/api-notes.md, "Errors"` names a heading of the notes."""
    headings = re.findall(r"^#+ (.+)$", (root / NOTES).read_text("utf-8"), re.MULTILINE)
    cited = {
        (name, section)
        for name, text in tracked_texts(root).items()
        for section in re.findall(re.escape(NOTES) + r', "([^"]+)"', text)
    }
    assert cited, "the spec and the emulator cite sections of the notes"
    missing = [c for c in cited if not any(h.startswith(c[1]) for h in headings)]
    assert not missing, missing


def test_paths_the_spec_names_exist(root: Path) -> None:
    """The spec's own references (the reference copy, the notes, the guard) are files."""
    spec = (root / "openapi.yaml").read_text("utf-8")
    named = set(re.findall(r"\b((?:docs|tests)/[\w./-]+\.(?:md|txt|py))", spec))
    assert {NOTES, "tests/data/direct-access-api-jobs.txt"} <= named
    assert [n for n in named if not (root / n).is_file()] == []
