"""User-facing errors: one small hierarchy, printed by the CLI as one line without a traceback."""


class SctpscopeError(Exception):
    """Base of every error the CLI reports to the user as a single line."""

    title = "error"

    def __str__(self) -> str:
        return f"{self.title}: {super().__str__()}" if self.args else self.title


class CaptureError(SctpscopeError):
    """A capture file cannot be opened or is not a capture at all."""

    title = "capture"


class UnsupportedLinkType(CaptureError):
    """A capture's link type is one sctpscope does not decode."""

    title = "unsupported link type"


class OracleError(SctpscopeError):
    """tshark (the reference decoder) is missing or failed."""

    title = "tshark"
