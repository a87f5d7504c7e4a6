"""Root-cause analysis: the entity graph, ranked causes per alert, incident grouping."""

from tripwire.rootcause.analysis import analyse
from tripwire.rootcause.graph import EntityGraph, build_graph, graph_for
from tripwire.rootcause.grouping import AlertGroup, GroupTracker, group_alerts, group_id

__all__ = [
    "AlertGroup",
    "EntityGraph",
    "GroupTracker",
    "analyse",
    "build_graph",
    "graph_for",
    "group_alerts",
    "group_id",
]
