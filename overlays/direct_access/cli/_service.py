"""`backends list/get` and `version`: what the instance offers."""

from __future__ import annotations

import json

from rich import box
from rich.table import Table

from direct_access import BackendStatus
from direct_access.cli._app import (
    JsonOption,
    VerboseOption,
    app,
    backends_app,
    client,
    print_json,
    stdout,
)

_STATUS_WIDTH = max(len(status.value) for status in BackendStatus)


@backends_app.command("list")
def backends_list(as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """The backends and their status."""
    with client() as c:
        backends = c.list_backends()
    if as_json:
        print_json([b.to_dict() for b in backends])
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    table.add_column("name", no_wrap=True)
    table.add_column("status", no_wrap=True, min_width=_STATUS_WIDTH)
    table.add_column("message", overflow="fold")
    for b in backends:
        table.add_row(b.name, b.status.value, b.to_dict().get("message", ""))
    stdout().print(table, soft_wrap=False)


@backends_app.command("get")
def backends_get(name: str, as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """One backend with its lanes."""
    with client() as c:
        backend = c.get_backend(name).to_dict()
        lanes = c.get_backend_lanes(name).to_dict()
    document = backend | {"lanes": lanes}
    if as_json:
        print_json(document)
        return
    table = Table("field", "value", show_header=False, box=box.SIMPLE, show_edge=False)
    table.columns[0].no_wrap = True
    table.columns[1].overflow = "fold"
    for key, value in document.items():
        table.add_row(
            key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
        )
    stdout().print(table, soft_wrap=False)


@app.command("version")
def version(as_json: JsonOption = False, verbose: VerboseOption = False) -> None:
    """The service's version and the API versions it supports (the toolkit's: --version)."""
    with client() as c:
        document = {"version": c.get_version(), "api_versions": c.list_versions()}
    if as_json:
        print_json(document)
    else:
        stdout().print(
            f"service {document['version']}; API versions: {', '.join(document['api_versions'])}",
            markup=False,
        )
