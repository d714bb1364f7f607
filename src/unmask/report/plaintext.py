"""Plain-text layout for takedown notices: paragraphs wrapped at 78 columns, lists, sections and
the visible `[TO FILL IN: ...]` placeholders, with no Markdown, so a notice can be pasted into
any web form or email as it is."""

import re
import textwrap

WIDTH = 78
"""Plain-text e-mail convention: lines fit a terminal and every mail client without reflowing."""

_UNBREAKABLE = re.compile(r"\[TO FILL IN: [^\]]*\]|\d+ U\.S\.C\. § |§ ")
"""Spans wrapping must never split: a placeholder, "17 U.S.C. § ", "§ 3"."""
_KEEP_TOGETHER = "\x00"  # stands in for their spaces while wrapping


def blank(what: str) -> str:
    """The visible placeholder for something she still has to fill in."""
    return f"[TO FILL IN: {what}]"


def wrap(text: str, first: str = "", rest: str = "") -> str:
    """One paragraph wrapped at `WIDTH`, web addresses, hashes and placeholders kept whole."""
    text = _UNBREAKABLE.sub(lambda m: m[0].replace(" ", _KEEP_TOGETHER), " ".join(text.split()))
    wrapped = textwrap.fill(
        text,
        WIDTH,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,  # a web address or hash must stay whole to be usable
        break_on_hyphens=False,
    )
    return wrapped.replace(_KEEP_TOGETHER, " ")


def paragraph(*sentences: str) -> str:
    """One wrapped paragraph of the sentences that are not empty."""
    return wrap(" ".join(part for part in sentences if part))


def items(lines: list[str]) -> str:
    """A bulleted list, each item wrapped under its own first line."""
    return "\n".join(wrap(line, "  - ", "    ") for line in lines)


def section(title: str, *blocks: str) -> str:
    """A titled section of the blocks that are not empty, one blank line between them."""
    return title + "\n" + "\n\n".join(block for block in blocks if block)


def sentence(text: str) -> str:
    """Her words as one sentence: capitalised, ending in a full stop."""
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
