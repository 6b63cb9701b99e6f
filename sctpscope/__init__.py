"""sctpscope: SCTP capture analyzer — decode, associations, streams, reports and a terminal UI."""

__version__ = "0.1.0"
