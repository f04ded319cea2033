"""The README's code blocks, sorted by what they are, and the rule that says so.

- ``python``/``py``: Python, run by pytest-markdown-docs (conftest.py at the root gives each block a
  fresh directory and the variables of a running emulator).
- ``sh``/``bash``/``shell``: shell, run by ``test_readme.py`` in a fresh directory laid out like a
  checkout, with the emulator's variables exported and ``.venv`` active.
- ``toml``/``yaml``/``json``: configuration, parsed; a TOML block whose first line is
  ``# NAME.toml`` is a file the reader saves, written into the directory of each later shell block.
- no language or ``text``: output or a listing, not run.

A block with ``notest`` in its fence info is illustrative, and the line just before it says so:
``_Illustrative (why):_``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from markdown_it import MarkdownIt

README = Path(__file__).resolve().parents[2] / "README.md"

PYTHON = frozenset({"python", "py", "python3"})
SHELL = frozenset({"sh", "bash", "shell"})
CONFIG = frozenset({"toml", "yaml", "json"})
OUTPUT = frozenset({"", "text"})

ILLUSTRATIVE = re.compile(r"^_Illustrative \(.+\):_$")
FILE_NAME = re.compile(r"^#\s*([\w.-]+\.toml)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: its language, fence options, text, and where it is."""

    language: str
    options: frozenset[str]
    text: str
    line: int  # 1-based line of the opening fence
    before: str  # the last non-blank line above the fence

    @property
    def illustrative(self) -> bool:
        return "notest" in self.options

    @property
    def file_name(self) -> str | None:
        """The name a configuration block is saved under, from its ``# NAME.toml`` first line."""
        if self.language != "toml":
            return None
        first = self.text.split("\n", 1)[0]
        match = FILE_NAME.match(first)
        return match.group(1) if match else None

    @property
    def id(self) -> str:
        return f"{self.language or 'text'}-line-{self.line}"


def blocks(path: Path = README) -> list[Block]:
    """Every fenced block of a Markdown file, in order (the parser pytest-markdown-docs uses)."""
    text = path.read_text("utf-8")
    lines = text.splitlines()
    found = []
    for token in MarkdownIt("commonmark").parse(text):
        if token.type != "fence" or token.map is None:
            continue
        info = token.info.split()
        language = info[0] if info else ""
        start = token.map[0]
        above = next((line for line in reversed(lines[:start]) if line.strip()), "")
        found.append(Block(language, frozenset(info[1:]), token.content, start + 1, above.strip()))
    return found
