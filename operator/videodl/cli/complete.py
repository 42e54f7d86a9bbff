"""``kubectl_complete-videodl``: completions for ``kubectl videodl <TAB>`` in kubectl's shells.

kubectl (1.26 and later) completes a plugin's arguments by running
``kubectl_complete-<plugin>`` with the words typed so far, the last one being the word to
complete, and reads Cobra's format back: one candidate per line, then ``:<directive>``. The
candidates come from the same Click completion as ``kubectl-videodl completion``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Final

from click.shell_completion import ShellComplete

from videodl.cli import app

__all__ = ["candidates", "main"]

#: Cobra's ShellCompDirectiveNoFileComp: offer no file names after the candidates.
NO_FILE_COMPLETION: Final = 4


def candidates(words: Sequence[str]) -> list[str]:
    """The completions of the last of ``words`` (an empty string completes a new word)."""
    *args, incomplete = list(words) or [""]
    completer = ShellComplete(app.cli, {}, app.PROG, "_KUBECTL_VIDEODL_COMPLETE")
    return [item.value for item in completer.get_completions(args, incomplete)]


def main() -> None:
    """Print the candidates for ``sys.argv[1:]`` in Cobra's format."""
    for value in candidates(sys.argv[1:]):
        print(value)
    print(f":{NO_FILE_COMPLETION}")
