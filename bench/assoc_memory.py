"""Bytes of analysis state per association: `python bench/assoc_memory.py N` builds tests/hostile.py's capture
of N associations (handshake, one DATA and SACK each way, SHUTDOWN/SHUTDOWN ACK/SHUTDOWN COMPLETE), feeds it
to the analysis and prints the memory it holds per association (tracemalloc: live Python objects) at the end
of the capture, before and after the report's dicts are built."""
from __future__ import annotations

import gc
import sys
import tempfile
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> None:
    import hostile
    from sctpscope.analysis.tracker import Analysis
    from sctpscope.pipeline import decode_files

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as d:
        path = hostile.many_associations(Path(d) / "many.pcap", n)
        tracemalloc.start()
        analysis = Analysis()
        for frame in decode_files([str(path)], []):
            analysis.add(frame)
        analysis.finish()
        gc.collect()
        state = tracemalloc.get_traced_memory()[0]
        dicts = analysis.association_dicts()
        gc.collect()
        with_dicts = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
    print(f"{n} associations: analysis state {state / n:.0f} bytes per association; "
          f"with the report's dicts {with_dicts / n:.0f} bytes per association ({len(dicts)} dicts)")


if __name__ == "__main__":
    main()
