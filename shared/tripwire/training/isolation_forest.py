"""Isolation forest: fit with scikit-learn, write the forest as one ONNX tree-ensemble node.

skl2onnx's conversion of a 100-tree forest is a 2,710-node graph that loads in ~265 ms and
scores slower than scikit-learn itself. Here the whole forest is ONE `TreeEnsembleRegressor`
(ai.onnx.ml) whose leaf values are each tree's path-length contribution divided by the
number of trees, so the node's sum is E[h(x)]; a few standard ops then apply
score = 2^(-E[h] / c(max_samples)). That equals scikit-learn's `-score_samples(X)`.

Exactness: scikit-learn casts X to float32 and compares it with float64 thresholds.
For a float32 x, `x <= t` holds exactly when `x <= t32` where t32 is the largest float32
not above t, so thresholds are rounded DOWN (round-to-nearest could flip a branch).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
import sklearn
from onnx import TensorProto, helper
from sklearn.ensemble import IsolationForest

DETECTOR_NAME = "isolation_forest"
INPUT_NAME = "x"
OUTPUT_NAME = "score"
# onnxruntime >= 1.18 reads IR 9 / opset 17; pinning keeps bytes stable across onnx upgrades.
IR_VERSION = 9
OPSETS = (("", 17), ("ai.onnx.ml", 3))
ENSEMBLE_ATTRIBUTES = (
    "nodes_treeids",
    "nodes_nodeids",
    "nodes_featureids",
    "nodes_values",
    "nodes_modes",
    "nodes_truenodeids",
    "nodes_falsenodeids",
    "nodes_missing_value_tracks_true",
    "target_treeids",
    "target_nodeids",
    "target_ids",
    "target_weights",
)


def average_path_length(n: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """c(n): mean path length of an unsuccessful BST search among n points (paper's eq. 1)."""
    n = np.asarray(n, dtype=np.float64)
    out = np.where(n == 2, 1.0, 0.0)
    big = n > 2
    m = np.where(big, n, 3.0)  # keep log() away from n <= 1 in the masked-out lanes
    out = np.where(big, 2.0 * (np.log(m - 1.0) + np.euler_gamma) - 2.0 * (m - 1.0) / m, out)
    return out


def floor_float32(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float32]:
    """Largest float32 <= each value (float32 inputs then take scikit-learn's branches)."""
    rounded = values.astype(np.float32)
    above = rounded.astype(np.float64) > values
    rounded[above] = np.nextafter(rounded[above], np.float32(-np.inf))
    return rounded


def train_isolation_forest(
    history: npt.ArrayLike,
    *,
    n_estimators: int = 100,
    max_samples: int = 256,
    seed: int = 0,
) -> tuple[bytes, dict[str, Any]]:
    """Fit an isolation forest on `history` (n, F); return (ONNX bytes, metadata)."""
    x = np.asarray(history, dtype=np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise ValueError(f"expected a (n >= 2, n_features) array, got shape {x.shape}")
    forest = fit_forest(x, n_estimators=n_estimators, max_samples=max_samples, seed=seed)
    model = forest_to_onnx(forest)
    metadata = {
        "detector": DETECTOR_NAME,
        "n_features": int(x.shape[1]),
        "n_estimators": n_estimators,
        "max_samples": int(forest.max_samples_),
        "sklearn_version": sklearn.__version__,
        "training_rows": len(x),
        "input": INPUT_NAME,
        "output": OUTPUT_NAME,
    }
    return model.SerializeToString(), metadata


def fit_forest(
    x: npt.NDArray[np.float64], *, n_estimators: int, max_samples: int, seed: int
) -> IsolationForest:
    """The scikit-learn forest behind `train_isolation_forest` (tests compare against it)."""
    return IsolationForest(
        n_estimators=n_estimators, max_samples=min(max_samples, len(x)), random_state=seed
    ).fit(x)


def forest_to_onnx(forest: IsolationForest) -> onnx.ModelProto:
    """The fitted forest as one TreeEnsembleRegressor plus the 2^(-E[h]/c) transform."""
    n_trees = len(forest.estimators_)
    attrs: dict[str, Any] = {name: [] for name in ENSEMBLE_ATTRIBUTES}
    for tree_id, (est, features) in enumerate(
        zip(forest.estimators_, forest.estimators_features_, strict=True)
    ):
        _add_tree(attrs, tree_id, est.tree_, np.asarray(features), n_trees)

    n_features = int(forest.n_features_in_)
    ensemble = helper.make_node(
        "TreeEnsembleRegressor",
        [INPUT_NAME],
        ["mean_path"],
        domain="ai.onnx.ml",
        n_targets=1,
        aggregate_function="SUM",
        post_transform="NONE",
        **attrs,
    )
    c_max = float(average_path_length(forest.max_samples_))
    # c(1) = 0: scikit-learn then scores every row 1.0; dividing by 1 with E[h] = 0 matches.
    consts = [
        helper.make_tensor("neg_inv_c", TensorProto.FLOAT, [], [-1.0 / c_max if c_max else 1.0]),
        helper.make_tensor("two", TensorProto.FLOAT, [], [2.0]),
        helper.make_tensor("flat", TensorProto.INT64, [1], [-1]),
    ]
    nodes = [
        ensemble,
        helper.make_node("Mul", ["mean_path", "neg_inv_c"], ["exponent"]),
        helper.make_node("Pow", ["two", "exponent"], ["score_2d"]),
        helper.make_node("Reshape", ["score_2d", "flat"], [OUTPUT_NAME]),
    ]
    graph = helper.make_graph(
        nodes,
        "isolation_forest",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["n", n_features])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["n"])],
        initializer=consts,
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid(domain, version) for domain, version in OPSETS],
        producer_name="tripwire",
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    return model


def _add_tree(
    attrs: dict[str, Any],
    tree_id: int,
    tree: Any,
    features: npt.NDArray[np.int64],
    n_trees: int,
) -> None:
    left, right = tree.children_left, tree.children_right
    is_leaf = left == -1
    # Same leaf value scikit-learn adds per tree: depth (root = 1) + c(n_leaf) - 1.
    leaf_value = tree.compute_node_depths() + average_path_length(tree.n_node_samples) - 1.0
    thresholds = floor_float32(tree.threshold)
    go_left_on_nan = getattr(tree, "missing_go_to_left", np.zeros(len(left), dtype=np.uint8))
    n_nodes = len(left)
    attrs["nodes_treeids"] += [tree_id] * n_nodes
    attrs["nodes_nodeids"] += range(n_nodes)
    # Trees index the bag's feature subset; map back to input columns.
    attrs["nodes_featureids"] += [
        0 if leaf else int(features[f]) for f, leaf in zip(tree.feature, is_leaf, strict=True)
    ]
    attrs["nodes_values"] += [
        0.0 if leaf else float(t) for t, leaf in zip(thresholds, is_leaf, strict=True)
    ]
    attrs["nodes_modes"] += ["LEAF" if leaf else "BRANCH_LEQ" for leaf in is_leaf]
    attrs["nodes_truenodeids"] += [
        0 if leaf else int(i) for i, leaf in zip(left, is_leaf, strict=True)
    ]
    attrs["nodes_falsenodeids"] += [
        0 if leaf else int(i) for i, leaf in zip(right, is_leaf, strict=True)
    ]
    attrs["nodes_missing_value_tracks_true"] += [int(v) for v in go_left_on_nan]
    leaves = np.flatnonzero(is_leaf)
    attrs["target_treeids"] += [tree_id] * len(leaves)
    attrs["target_nodeids"] += [int(i) for i in leaves]
    attrs["target_ids"] += [0] * len(leaves)
    attrs["target_weights"] += [float(leaf_value[i] / n_trees) for i in leaves]
