"""sctpscope: SCTP capture analyzer — decode, associations, streams, reports and a terminal UI."""

__version__ = "0.1.0"

from sctpscope import _build

_build.check()     # an edited source wins over its stale compiled module (editable installs)
