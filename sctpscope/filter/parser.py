"""Parser and compiler of the display-filter language (grammar in sctpscope.filter's docstring).

Precedence, loosest first: ``||`` (or), ``&&`` (and), ``!`` (not); parentheses group. The expression is
compiled to nested closures once; matching a packet calls them.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Iterable

from sctpscope.filter.fields import (ADDR, FIELDS, FLAG, TSHARK_HINTS, UINT, Field, LiteralError, as_ip, parse_addr,
                                     parse_uint)
from sctpscope.filter.lexer import FilterError, Token, tokenize

Pred = Callable[[object], bool]

MAX_DEPTH = 64           # parentheses: deeper is an error, not a RecursionError

_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class Filter:
    """A compiled filter: ``match(ctx)`` for one PacketContext, ``match_any(ctxs)`` for the packets of a frame.

    ``expression`` is the source text; ``fields`` the names of the fields it uses (``uses("association")``
    tells a caller whether it needs the report's association ids before it can evaluate).
    """

    __slots__ = ("expression", "fields", "_fn")

    def __init__(self, expression: str, fn: Pred, fields: frozenset[str]) -> None:
        self.expression = expression
        self._fn = fn
        self.fields = fields

    def match(self, ctx) -> bool:
        return bool(self._fn(ctx))

    def match_any(self, ctxs: Iterable) -> bool:
        fn = self._fn
        return any(fn(c) for c in ctxs)

    def uses(self, *names: str) -> bool:
        return any(n in self.fields for n in names)

    def __repr__(self) -> str:
        return f"Filter({self.expression!r})"


def compile(expression: str) -> Filter:  # noqa: A001 - the package's documented entry point
    """Compile a filter expression; raises FilterError (a SctpscopeError) pointing at the fault."""
    if not isinstance(expression, str):
        raise TypeError("a filter expression is a str")
    p = _Parser(expression)
    return Filter(expression, p.parse(), frozenset(p.fields))


def _in_net(text: str, net) -> bool:
    a = as_ip(text)
    return a is not None and a.version == net.version and a in net


def _describe(tok: Token) -> str:
    if tok.kind == "END":
        return "the end of the expression"
    if tok.kind == "STRING":
        return f'the string "{tok.text}"'
    return f"'{tok.text}'"


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.toks = tokenize(expr)
        self.i = 0
        self.depth = 0
        self.fields: set[str] = set()

    # -- token stream ----------------------------------------------------------------------------------
    def peek(self) -> Token:
        return self.toks[self.i]

    def take(self) -> Token:
        tok = self.toks[self.i]
        if tok.kind != "END":
            self.i += 1
        return tok

    def fail(self, reason: str, tok: Token) -> FilterError:
        return FilterError(reason, self.expr, tok.pos, tok.length)

    # -- grammar ---------------------------------------------------------------------------------------
    def parse(self) -> Pred:
        if not self.expr.strip():
            raise FilterError("empty filter expression", self.expr, 0)
        fn = self.or_()
        tok = self.peek()
        if tok.kind == "RPAREN":
            raise self.fail("this ')' closes no '('", tok)
        if tok.kind != "END":
            raise self.fail(f"expected '&&', '||' or the end of the expression, found {_describe(tok)}", tok)
        return fn

    def or_(self) -> Pred:
        terms = [self.and_()]
        while self.peek().kind == "OR":
            terms.append(self.and_operand(self.take()))
        if len(terms) == 1:
            return terms[0]
        return lambda c: any(t(c) for t in terms)          # flat: a long chain nests no calls

    def and_(self) -> Pred:
        terms = [self.not_()]
        while self.peek().kind == "AND":
            terms.append(self.not_operand(self.take()))
        if len(terms) == 1:
            return terms[0]
        return lambda c: all(t(c) for t in terms)

    def and_operand(self, op: Token) -> Pred:
        self._operand_expected(op)
        return self.and_()

    def not_operand(self, op: Token) -> Pred:
        self._operand_expected(op)
        return self.not_()

    def _operand_expected(self, op: Token) -> None:
        tok = self.peek()
        if tok.kind in ("END", "AND", "OR", "RPAREN"):
            raise self.fail(f"a test is missing after '{op.text}'", tok)

    def not_(self) -> Pred:
        negate = False
        while self.peek().kind == "NOT":           # !!!x: a loop, not a recursion
            op = self.take()
            self._operand_expected(op)
            negate = not negate
        inner = self.primary()
        return (lambda c: not inner(c)) if negate else inner

    def primary(self) -> Pred:
        tok = self.take()
        if tok.kind == "LPAREN":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(f"parentheses nested more than {MAX_DEPTH} deep", tok)
            if self.peek().kind == "RPAREN":
                raise self.fail("empty parentheses: a test is missing", self.peek())
            inner = self.or_()
            close = self.peek()
            if close.kind != "RPAREN":
                col = tok.pos + 1
                if close.kind == "END":
                    raise self.fail(f"missing ')' to close the '(' at column {col}", close)
                raise self.fail(f"expected ')' to close the '(' at column {col}, found {_describe(close)}", close)
            self.take()
            self.depth -= 1
            return inner
        if tok.kind == "WORD":
            return self.test(tok)
        if tok.kind == "END":
            raise self.fail("the expression ends where a test was expected", tok)
        if tok.kind == "OP":
            raise self.fail(f"'{tok.text}' needs a field on its left", tok)
        raise self.fail(f"expected a field name, '(' or '!', found {_describe(tok)}", tok)

    # -- tests -----------------------------------------------------------------------------------------
    def field(self, tok: Token) -> Field:
        name = tok.text.lower()
        f = FIELDS.get(name)
        if f is not None:
            self.fields.add(f.name)
            return f
        hint = TSHARK_HINTS.get(name)
        if hint is None:
            close = difflib.get_close_matches(name, list(FIELDS), n=1, cutoff=0.6)
            hint = close[0] if close else None
        if hint is not None:
            raise self.fail(f"unknown field '{tok.text}'; did you mean '{hint}'?", tok)
        if tok.text[:1].isdigit():
            raise self.fail(f"expected a field name, found the value '{tok.text}' (a test is FIELD OP VALUE)", tok)
        raise self.fail(f"unknown field '{tok.text}' (fields: {', '.join(FIELDS)})", tok)

    def test(self, tok: Token) -> Pred:
        f = self.field(tok)
        nxt = self.peek()
        if nxt.kind in ("OP", "IN") and f.kind == FLAG:
            raise self.fail(f"{f.name} is a flag, it takes no value: write '{f.name}' or '!{f.name}'", nxt)
        if nxt.kind == "OP":
            op = self.take()
            lit = self.take()
            if lit.kind not in ("WORD", "STRING"):
                raise self.fail(f"expected a value after '{op.text}', found {_describe(lit)}", lit)
            return self.compare(f, op, lit)
        if nxt.kind == "IN":
            return self.member(f, self.take())
        if nxt.kind in ("WORD", "STRING"):
            raise self.fail(f"expected an operator (== != < <= > >= in) between '{tok.text}' and this value", nxt)
        get = f.get
        if f.kind == FLAG:
            return get
        return lambda c: bool(get(c))          # the field is present (at least one value)

    def literal(self, f: Field, lit: Token):
        try:
            if f.kind == UINT:
                return parse_uint(f, lit.text, lit.kind == "STRING")
            return parse_addr(f, lit.text)
        except LiteralError as exc:
            raise self.fail(str(exc), lit) from None

    def compare(self, f: Field, op: Token, lit: Token) -> Pred:
        v = self.literal(f, lit)
        get = f.get
        o = op.text
        if f.kind == UINT:
            if o == "==":
                return lambda c: v in get(c)
            if o == "!=":
                return lambda c: bool(vals := get(c)) and v not in vals
            cmp = _ORDER[o]
            return lambda c: any(cmp(x, v) for x in get(c))
        # addresses
        if hasattr(v, "network_address"):           # a network
            if o not in ("==", "!="):
                raise self.fail(f"a network can only be compared with == or != (or 'in'), not '{o}'", op)
            net = v
            if o == "==":
                return lambda c: any(_in_net(x, net) for x in get(c))
            return lambda c: bool(vals := get(c)) and not any(_in_net(x, net) for x in vals)
        addr = v
        if o == "==":
            return lambda c: any(as_ip(x) == addr for x in get(c))
        if o == "!=":
            return lambda c: bool(vals := get(c)) and not any(as_ip(x) == addr for x in vals)
        cmp = _ORDER[o]
        return lambda c: any((a := as_ip(x)) is not None and a.version == addr.version and cmp(a, addr)
                             for x in get(c))

    def member(self, f: Field, kw: Token) -> Pred:
        brace = self.take()
        if brace.kind != "LBRACE":
            raise self.fail(f"expected '{{' after 'in', found {_describe(brace)}", brace)
        singles: set = set()
        ranges: list[tuple[int, int]] = []
        nets: list = []
        count = 0
        while True:
            tok = self.take()
            if tok.kind == "RBRACE":
                break
            if tok.kind == "COMMA":
                continue
            if tok.kind == "END":
                raise self.fail(f"the set opened at column {brace.pos + 1} is not closed: '}}' is missing", tok)
            if tok.kind not in ("WORD", "STRING"):
                raise self.fail(f"expected a value or '}}' in the set, found {_describe(tok)}", tok)
            count += 1
            if f.kind == UINT and tok.kind == "WORD" and ".." in tok.text:
                lo_text, _, hi_text = tok.text.partition("..")
                lo = self.literal(f, tok._replace(text=lo_text))
                hi = self.literal(f, tok._replace(text=hi_text))
                if lo > hi:
                    raise self.fail(f"empty range {tok.text}: {lo} > {hi}", tok)
                ranges.append((lo, hi))
                continue
            v = self.literal(f, tok)
            if f.kind == ADDR and hasattr(v, "network_address"):
                nets.append(v)
            else:
                singles.add(v)
        if not count:
            raise self.fail("an empty set matches nothing", brace)
        get = f.get
        if f.kind == UINT:
            frozen = frozenset(singles)
            if not ranges:
                return lambda c: any(x in frozen for x in get(c))
            return lambda c: any(x in frozen or any(lo <= x <= hi for lo, hi in ranges) for x in get(c))

        def addr_in(c) -> bool:
            for x in get(c):
                a = as_ip(x)
                if a is not None and (a in singles or any(a.version == n.version and a in n for n in nets)):
                    return True
            return False
        return addr_in
