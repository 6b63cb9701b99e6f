"""Tokens of the display-filter language: words, operators, parentheses, braces, quoted strings.

A *word* is a run of letters, digits and ``_ . : / -``: field names, numbers (``46``, ``0x1234abcd``), IPv4 and
IPv6 addresses and networks (``198.18.0.1``, ``2001:db8::1``, ``10.0.0.0/8``), chunk and PPID names
(``INIT_ACK``, ``INIT-ACK``, ``Diameter``) and ranges in sets (``1..3``). The words ``and or not in`` and
``eq ne lt le gt ge`` (any case) are keywords, as in tshark. Every token keeps its position in the
expression so that errors can point at it.
"""

from __future__ import annotations

from typing import NamedTuple

from sctpscope.errors import SctpscopeError
from sctpscope.text import escape_text


class FilterError(SctpscopeError):
    """A filter expression that does not compile; ``str()`` shows the expression with a caret under the fault.

    Attributes for callers that draw their own marker (the TUI filter bar): ``expression``, ``reason``,
    ``position`` (0-based index of the fault in ``expression``) and ``length`` (characters underlined, >= 1).
    """

    title = "filter"

    def __init__(self, reason: str, expression: str, position: int, length: int = 1) -> None:
        self.reason = reason
        self.expression = expression
        self.position = max(0, min(position, len(expression)))
        self.length = max(1, length)
        super().__init__(reason)

    def caret_lines(self) -> tuple[str, str]:
        """The expression made terminal-safe, and a line of spaces and carets under the fault."""
        shown = escape_text(self.expression)
        col = len(escape_text(self.expression[:self.position]))
        width = len(escape_text(self.expression[self.position:self.position + self.length])) or 1
        return shown, " " * col + "^" * width

    def __str__(self) -> str:
        shown, marks = self.caret_lines()
        return f"{self.title}: {self.reason}\n  {shown}\n  {marks}"


class Token(NamedTuple):
    kind: str       # WORD STRING OP AND OR NOT IN LPAREN RPAREN LBRACE RBRACE COMMA END
    text: str       # the source text (for STRING: the unquoted value)
    pos: int        # index in the expression
    length: int     # source characters


_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:/-")
_KEYWORDS = {"and": "AND", "or": "OR", "not": "NOT", "in": "IN"}
_WORD_OPS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_PUNCT = {"(": "LPAREN", ")": "RPAREN", "{": "LBRACE", "}": "RBRACE", ",": "COMMA"}


def tokenize(expr: str) -> list[Token]:
    """The tokens of `expr`, ending with an END token; raises FilterError at the first bad character."""
    out: list[Token] = []
    i, n = 0, len(expr)
    while i < n:
        ch = expr[i]
        if ch in " \t\r\n":
            i += 1
            continue
        two = expr[i:i + 2]
        if two in ("&&", "||"):
            out.append(Token("AND" if two == "&&" else "OR", two, i, 2))
            i += 2
        elif two in ("==", "!=", "<=", ">="):
            out.append(Token("OP", two, i, 2))
            i += 2
        elif ch in "<>":
            out.append(Token("OP", ch, i, 1))
            i += 1
        elif ch == "!":
            out.append(Token("NOT", ch, i, 1))
            i += 1
        elif ch == "=":
            raise FilterError("'=' is not an operator: compare with '=='", expr, i)
        elif ch == "&":
            raise FilterError("a single '&': write '&&' (or 'and')", expr, i)
        elif ch == "|":
            raise FilterError("a single '|': write '||' (or 'or')", expr, i)
        elif ch in _PUNCT:
            out.append(Token(_PUNCT[ch], ch, i, 1))
            i += 1
        elif ch == '"':
            j = i + 1
            buf = []
            while j < n and expr[j] != '"':
                if expr[j] == "\\" and j + 1 < n:
                    j += 1
                buf.append(expr[j])
                j += 1
            if j >= n:
                raise FilterError("this string is not closed: a '\"' is missing", expr, i, n - i)
            out.append(Token("STRING", "".join(buf), i, j + 1 - i))
            i = j + 1
        elif ch in _WORD_CHARS:
            j = i
            while j < n and expr[j] in _WORD_CHARS:
                j += 1
            word = expr[i:j]
            low = word.lower()
            if low in _KEYWORDS:
                out.append(Token(_KEYWORDS[low], word, i, j - i))
            elif low in _WORD_OPS:
                out.append(Token("OP", _WORD_OPS[low], i, j - i))
            else:
                out.append(Token("WORD", word, i, j - i))
            i = j
        else:
            raise FilterError(f"unexpected character {escape_text(repr(ch))}", expr, i)
    out.append(Token("END", "", n, 1))
    return out
