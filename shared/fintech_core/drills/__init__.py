"""Failure drills you can replay: the same failure against the naive baseline and a phase, on
the real stack, with a timeline and a verdict read from the database.

    from fintech_core.drills import run, plot_timeline
    report = run("response-lost", composition(0))   # or run(name, session=a_LabSession)
    report.side("naive").headline            # {"debits": 2}
    report.to_json(); plot_timeline(report)

`fcl drill list` / `fcl drill run NAME` are the same drills from a terminal. How a phase
adds drills: see README.md beside this file.
"""

from fintech_core.drills.plot import plot_timeline
from fintech_core.drills.registry import get, names
from fintech_core.drills.report import Check, DrillReport, SideReport
from fintech_core.drills.runner import run

__all__ = ["Check", "DrillReport", "SideReport", "get", "names", "plot_timeline", "run"]
