"""Text a visitor chose (a link's value, a typed cell or answer, a file name), shown literally.

st.markdown, st.caption, st.warning, st.error, image captions and widget labels all read their
text as Markdown, so "[Sign in](https://ev.il)" from a link would become a clickable link inside
cnnviz's own message, and "<b>" or "**" would change how it looks. plain() backslash-escapes the
characters that start Markdown, GFM or Streamlit syntax (CommonMark allows the escape before any
ASCII punctuation): links and images, HTML, emphasis, code, LaTeX ($), Streamlit's :colour[...]
and :emoji: (a ":" before a non-space, which also stops bare https:// addresses from being
linked; "www." and "@" are broken too), and a list or heading marker at its start. Commas, full stops, quotes and
parentheses stay as they are, so messages still read as typed. Line breaks become spaces, so a
message stays one line. Use it on the visitor's part of a message, or on a whole message.
"""
from __future__ import annotations

import re

_SYNTAX = re.compile(r"([\\`*_\[\]<>~$&@|#{}]|:(?=\S))")   # "word: more" needs no escape
_WWW = re.compile(r"(www)\.", re.IGNORECASE)          # GFM links www.example.org as it is
_LIST_OR_RULE = re.compile(r"^(\s*)([-+=])")            # "- x", "+ x", a setext "===" line
_NUMBERED = re.compile(r"^(\s*\d+)([.)])")              # "1. x", "1) x"
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x85\u2028\u2029]+")


def plain(text: object) -> str:
    """`text` escaped so Streamlit's Markdown shows it exactly as written, on one line."""
    text = _SYNTAX.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))
    text = _WWW.sub(r"\1\\.", text)
    return _NUMBERED.sub(r"\1\\\2", _LIST_OR_RULE.sub(r"\1\\\2", text))
