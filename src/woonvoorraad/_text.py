"""Text from the data made safe for a terminal or a log.

Names in the inputs (gemeentenaam, buurtnaam, …) are free text: a carriage return, a line feed
or a terminal escape sequence in one of them must not move the cursor, retitle the terminal or
fake a log line when it is printed, and must not split a row of a CSV output.

:func:`printable`
    Escape control characters (``repr`` style: ``\\x1b``, ``\\r``) for log lines and messages
    on the terminal; the text stays readable and nothing is lost.

Names are kept verbatim in the data and the outputs (CSV fields are quoted, so a carriage return
cannot split a row; HTML is escaped); only what goes to a terminal or a log is escaped.
"""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

#: C0 controls, DEL and C1 controls (``\t`` and ``\n`` included; callers may keep ``\n``).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_NO_NL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


#: Invisible format characters that only confuse a name (zero-width space/joiners, BOM,
#: bidirectional overrides).
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")

#: What :func:`printable` escapes: the controls and the invisible format characters.
_UNPRINTABLE = re.compile(f"{_CONTROL.pattern}|{_INVISIBLE.pattern}|[\u2028\u2029]")
_UNPRINTABLE_NO_NL = re.compile(f"{_CONTROL_NO_NL.pattern}|{_INVISIBLE.pattern}|[\u2028\u2029]")

_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    return _SHORT.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def printable(value: Any, *, keep_newlines: bool = False) -> str:
    """``str(value)`` with control characters escaped, for a terminal or a log line.

    C0 controls (tab, CR, LF, ESC, BEL, …), DEL and C1 controls become ``\\t``, ``\\r``,
    ``\\n`` or ``\\xNN``, invisible format characters (zero-width, bidirectional overrides,
    line separators) ``\\uNNNN``; other text, accents and symbols included, is kept as it is.

    Parameters
    ----------
    value
        Anything; converted with ``str``.
    keep_newlines
        Keep ``\\n`` (for multi-line text such as a traceback).

    Examples
    --------
    >>> printable("Leidschendam\\r-Voorburg\\x1b[31m")
    'Leidschendam\\\\r-Voorburg\\\\x1b[31m'
    >>> printable("Súdwest-Fryslân")
    'Súdwest-Fryslân'
    """
    text = value if isinstance(value, str) else str(value)
    pattern = _UNPRINTABLE_NO_NL if keep_newlines else _UNPRINTABLE
    return pattern.sub(_escape, text) if pattern.search(text) else text
