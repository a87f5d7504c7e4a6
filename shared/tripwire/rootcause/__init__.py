"""Root-cause analysis: the entity graph, ranked causes per alert, incident grouping."""

from tripwire.rootcause.analysis import analyse
from tripwire.rootcause.graph import EntityGraph, build_graph, graph_for
from tripwire.rootcause.grouping import GroupMember, group_id
from tripwire.rootcause.incidents import (
    IncidentBook,
    IncidentGroup,
    assign,
    onset_runs,
    period_key,
)

__all__ = [
    "EntityGraph",
    "GroupMember",
    "IncidentBook",
    "IncidentGroup",
    "analyse",
    "assign",
    "build_graph",
    "graph_for",
    "group_id",
    "onset_runs",
    "period_key",
]
