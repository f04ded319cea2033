"""``python -m direct_access.cli``: the `direct-access` command."""

from direct_access.cli import main

main()
