"""Tree ensembles -> one ONNX TreeEnsemble (ai.onnx.ml 5) computing in float64 end to end.

Every tree model (scikit-learn forests and histogram boosting, LightGBM) is written as raw per-target sums so
that splits compare exactly as the library does: LightGBM and HistGradientBoosting compare float64 values to
float64 thresholds; scikit-learn forests compare float32 values to float64 thresholds (so their input is rounded
through float32 first). Stock converters store thresholds and sums as float32 (TreeEnsembleRegressor's output is
float32 by definition), which can send a row down the other branch and, through a steep isotonic calibration
or a target rescaling, turns a 1e-7 rounding into a 1e-4 difference. Probability links (sigmoid, softmax) are
applied in float64 by the caller.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph


class TreeNodes:
    """Nodes of several trees, flattened into ONNX's attribute layout (arrays per tree, joined at the end)."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []
        self.outs: list[dict[str, np.ndarray]] = []

    def add_tree(self, tree: int, feature: Any, threshold: Any, left: Any, right: Any, missing_left: Any,
                 is_leaf: Any, leaf_node: Any, leaf_target: Any, leaf_weight: Any) -> None:
        """Node i of the tree splits `x[feature[i]] <= threshold[i]` -> left[i] else right[i] (NaN goes left when
        missing_left[i]); leaves add leaf_weight to their leaf_target."""
        is_leaf = np.asarray(is_leaf, dtype=bool)
        n = len(is_leaf)
        inner = ~is_leaf
        self.parts.append({
            "tree": np.full(n, tree, dtype=np.int64), "node": np.arange(n, dtype=np.int64),
            "feature": np.where(inner, feature, 0).astype(np.int64),
            "threshold": np.where(inner, threshold, 0.0).astype(np.float64),
            "true": np.where(inner, left, 0).astype(np.int64), "false": np.where(inner, right, 0).astype(np.int64),
            "missing": np.where(inner, np.asarray(missing_left, dtype=bool), False).astype(np.int64),
            "leaf": is_leaf})
        leaf_node = np.asarray(leaf_node, dtype=np.int64)
        self.outs.append({"tree": np.full(len(leaf_node), tree, dtype=np.int64), "node": leaf_node,
                          "target": np.asarray(leaf_target, dtype=np.int64),
                          "weight": np.asarray(leaf_weight, dtype=np.float64)})


def tree_ensemble(g: Graph, x: str, nodes: TreeNodes, n_targets: int, base: Any = None) -> str:
    """Sum of leaf weights per target for float64 input x: a float64 tensor [N, n_targets] (+ base per target).

    ONNX's TreeEnsemble (ai.onnx.ml 5) computes in the input's type, so thresholds, leaf weights and sums are all
    float64. Its leaves carry one target each: a tree whose leaves feed several targets (a forest classifier's
    class fractions) is written once per target.
    """
    from onnx import numpy_helper

    split_parts, leaf_parts, roots = [], [], []
    n_nodes = n_leaves = 0
    for part, out in zip(nodes.parts, nodes.outs, strict=True):
        targets = np.unique(out["target"]) if len(out["target"]) else np.array([0])
        for target in targets:
            weights = np.zeros(len(part["leaf"]))
            sel = out["target"] == target
            np.add.at(weights, out["node"][sel], out["weight"][sel])
            sp, lf = _one_tree(part, weights, int(target), n_nodes, n_leaves)
            roots.append(n_nodes)
            n_nodes += len(sp["feature"])
            n_leaves += len(lf["target"])
            split_parts.append(sp)
            leaf_parts.append(lf)

    def join(parts: list[dict[str, np.ndarray]], key: str) -> np.ndarray:
        return np.concatenate([p[key] for p in parts])

    out = g.op(
        "TreeEnsemble", [x], domain="ai.onnx.ml", n_targets=n_targets, aggregate_function=1, post_transform=0,
        tree_roots=roots, nodes_featureids=join(split_parts, "feature").tolist(),
        nodes_modes=numpy_helper.from_array(np.zeros(n_nodes, dtype=np.uint8)),
        nodes_splits=numpy_helper.from_array(join(split_parts, "threshold")),
        nodes_truenodeids=join(split_parts, "true").tolist(), nodes_trueleafs=join(split_parts, "true_leaf").tolist(),
        nodes_falsenodeids=join(split_parts, "false").tolist(),
        nodes_falseleafs=join(split_parts, "false_leaf").tolist(),
        nodes_missing_value_tracks_true=join(split_parts, "missing").tolist(),
        leaf_targetids=join(leaf_parts, "target").tolist(),
        leaf_weights=numpy_helper.from_array(join(leaf_parts, "weight")))
    if base is not None:
        out = g.op("Add", [out, g.const(np.asarray(base, dtype=np.float64).reshape(1, -1), hint="base")])
    return out


def _one_tree(part: dict[str, np.ndarray], weights: np.ndarray, target: int, node0: int,
              leaf0: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """One tree in TreeEnsemble's layout: split nodes and leaves numbered separately, from node0 / leaf0."""
    leaf = part["leaf"]
    inner = ~leaf
    if not inner.any():  # a single leaf: a split whose two branches reach it
        sp = {"feature": np.zeros(1, np.int64), "threshold": np.zeros(1), "true": np.array([leaf0]),
              "false": np.array([leaf0]), "true_leaf": np.ones(1, np.int64), "false_leaf": np.ones(1, np.int64),
              "missing": np.zeros(1, np.int64)}
        return sp, {"target": np.array([target]), "weight": weights[:1]}
    if leaf[0]:
        raise ExportError("tree root is a leaf although the tree has splits; cannot export.")
    index = np.where(leaf, np.cumsum(leaf) - 1 + leaf0, np.cumsum(inner) - 1 + node0)
    left, right = part["true"][inner], part["false"][inner]
    sp = {"feature": part["feature"][inner], "threshold": part["threshold"][inner],
          "true": index[left], "false": index[right], "true_leaf": leaf[left].astype(np.int64),
          "false_leaf": leaf[right].astype(np.int64), "missing": part["missing"][inner]}
    return sp, {"target": np.full(int(leaf.sum()), target, dtype=np.int64), "weight": weights[leaf]}


# ---------------------------------------------------------------------------------------- scikit-learn ---
def forest_sums(g: Graph, x: str, model: Any, classifier: bool) -> str:
    """RandomForest / ExtraTrees (classifier: mean of per-tree class fractions; regressor: mean prediction)."""
    if getattr(model, "n_outputs_", 1) != 1:
        raise ExportError(f"{type(model).__name__} with several outputs cannot be exported to ONNX.")
    nodes = TreeNodes()
    n_trees = len(model.estimators_)
    for t, est in enumerate(model.estimators_):
        tr = est.tree_
        left, right = tr.children_left, tr.children_right
        leaf = left == -1
        missing = getattr(tr, "missing_go_to_left", np.zeros(tr.node_count, dtype=np.uint8))
        values = np.asarray(tr.value[:, 0, :], dtype=np.float64)[leaf]
        if classifier:
            sums = values.sum(axis=1, keepdims=True)
            values = values / np.where(sums == 0, 1.0, sums)
        node_ids = np.flatnonzero(leaf)
        li, ti = np.nonzero(values)  # only the classes a leaf gives weight to
        nodes.add_tree(t, tr.feature, tr.threshold, left, right, missing, leaf, node_ids[li], ti,
                       values[li, ti] / n_trees)
    # scikit-learn trees compare float32 features: round the input through float32 first
    x32 = g.cast(g.cast(x, np.float32), np.float64)
    n_targets = len(model.classes_) if classifier else 1
    return tree_ensemble(g, x32, nodes, n_targets)


def hist_gradient_boosting_raw(g: Graph, x: str, model: Any) -> str:
    """HistGradientBoosting raw predictions (baseline + trees), [N, k] (k = 1 for binary and regression)."""
    if getattr(model, "_preprocessor", None) is not None or getattr(model, "is_categorical_", None) is not None \
            and np.any(model.is_categorical_):
        raise ExportError("HistGradientBoosting with categorical_features cannot be exported to ONNX "
                          "(mlengine encodes categories before the model; leave categorical_features unset).")
    nodes = TreeNodes()
    t = 0
    k = len(model._predictors[0])
    for iteration in model._predictors:
        for target, predictor in enumerate(iteration):
            nd = predictor.nodes
            leaf = nd["is_leaf"].astype(bool)
            if np.any(nd["is_categorical"][~leaf]):
                raise ExportError("HistGradientBoosting categorical splits cannot be exported to ONNX.")
            leaves = np.flatnonzero(leaf)
            nodes.add_tree(t, nd["feature_idx"], nd["num_threshold"], nd["left"], nd["right"],
                           nd["missing_go_to_left"], leaf, leaves, np.full(len(leaves), target), nd["value"][leaf])
            t += 1
    base = np.asarray(model._baseline_prediction, dtype=np.float64).reshape(-1)
    return tree_ensemble(g, x, nodes, k, base=base)


# -------------------------------------------------------------------------------------------- LightGBM ---
LGBM_CLASSIFICATION = ("binary", "multiclass", "softmax", "cross_entropy", "xentropy")
LGBM_IDENTITY = ("regression", "regression_l2", "l2", "mean_squared_error", "mse", "regression_l1", "l1",
                 "mean_absolute_error", "mae", "huber", "fair", "quantile", "mape", "mean_absolute_percentage_error")
LGBM_EXP = ("poisson", "gamma", "tweedie")


def _lgbm_text(model: Any) -> tuple[dict[str, str], list[dict[str, str]]]:
    """LightGBM's model text (full-precision thresholds): header keys and one dict of lines per tree."""
    text = model.booster_.model_to_string(num_iteration=None)
    body = text.split("end of trees", 1)[0]
    blocks = body.split("\nTree=")
    header = dict(line.split("=", 1) if "=" in line else (line, "") for line in blocks[0].splitlines() if line)
    trees = [dict(line.split("=", 1) for line in block.splitlines()[1:] if "=" in line) for block in blocks[1:]]
    return header, trees


def lightgbm_objective(model: Any) -> tuple[str, float]:
    """(objective name, sigmoid scale) of a fitted LightGBM model."""
    header, _ = _lgbm_text(model)
    return _objective(header)


def _objective(header: dict[str, str]) -> tuple[str, float]:
    parts = header.get("objective", "").split()
    sigmoid = 1.0
    for p in parts[1:]:
        if p.startswith("sigmoid:"):
            sigmoid = float(p.split(":", 1)[1])
    return (parts[0] if parts else ""), sigmoid


def lightgbm_raw(g: Graph, x: str, model: Any) -> tuple[str, str, float]:
    """LightGBM raw scores [N, k] (k = 1 for binary and regression), the objective and its sigmoid scale."""
    header, trees = _lgbm_text(model)
    objective, sigmoid = _objective(header)
    if objective not in (*LGBM_CLASSIFICATION, *LGBM_IDENTITY, *LGBM_EXP):
        raise ExportError(f"LightGBM objective {objective!r} cannot be exported to ONNX; supported: binary, "
                          f"multiclass, and regression objectives ({', '.join(LGBM_IDENTITY[:3])}, ..., "
                          f"{', '.join(LGBM_EXP)}).")
    k = int(header.get("num_tree_per_iteration", 1))
    scale = 1.0 / max(1, len(trees) // k) if "average_output" in header else 1.0  # boosting_type='rf'
    nodes = TreeNodes()
    for t, tree in enumerate(trees):
        _lgbm_tree(nodes, t, t % k, tree, scale)
    return tree_ensemble(g, x, nodes, k), objective, sigmoid


def _ints(text: str) -> np.ndarray:
    return np.array(text.split(), dtype=np.int64)


def _lgbm_tree(nodes: TreeNodes, t: int, target: int, tree: dict[str, str], scale: float) -> None:
    """Internal node i keeps id i, leaf j gets id (num_leaves - 1) + j; LightGBM's missing-value rules map onto
    ONNX's `missing tracks true` flag."""
    if int(tree.get("is_linear", "0")):
        raise ExportError("LightGBM with linear_tree=True cannot be exported to ONNX.")
    if int(tree.get("num_cat", "0")):
        raise ExportError("LightGBM categorical splits cannot be exported to ONNX (mlengine encodes categories "
                          "before the model).")
    leaf_values = np.array(tree["leaf_value"].split(), dtype=np.float64) * scale
    n_leaves = int(tree["num_leaves"])
    n_inner = n_leaves - 1
    if n_inner == 0:  # a single leaf
        nodes.add_tree(t, [0], [0.0], [0], [0], [False], [True], [0], [target], leaf_values[:1])
        return
    decision = _ints(tree["decision_type"])
    threshold = np.array(tree["threshold"].split(), dtype=np.float64)
    missing_type = (decision >> 2) & 3  # 0 None, 1 Zero, 2 NaN
    if np.any(decision & 1):
        raise ExportError("LightGBM categorical splits cannot be exported to ONNX.")
    if np.any(missing_type == 1):
        raise ExportError("LightGBM with zero_as_missing=True cannot be exported to ONNX.")
    default_left = (decision & 2) != 0
    # NaN type: NaN follows default_left; None type: NaN is read as 0.0, then compared
    missing_left = np.where(missing_type == 2, default_left, threshold >= 0.0)

    def child(c: np.ndarray) -> np.ndarray:
        return np.where(c >= 0, c, n_inner + ~c)

    pad = np.zeros(n_leaves)
    nodes.add_tree(t, np.concatenate([_ints(tree["split_feature"]), pad]), np.concatenate([threshold, pad]),
                   np.concatenate([child(_ints(tree["left_child"])), pad]),
                   np.concatenate([child(_ints(tree["right_child"])), pad]),
                   np.concatenate([missing_left, pad.astype(bool)]),
                   np.concatenate([np.zeros(n_inner, dtype=bool), np.ones(n_leaves, dtype=bool)]),
                   np.arange(n_inner, n_inner + n_leaves), np.full(n_leaves, target), leaf_values)


# --------------------------------------------------------------------------------------------- XGBoost ---
XGB_CLASSIFICATION = ("binary:logistic", "multi:softprob")
XGB_IDENTITY = ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror", "reg:quantileerror")
XGB_EXP = ("count:poisson", "reg:gamma", "reg:tweedie")


def xgboost_objective(model: Any) -> str:
    import json

    return json.loads(model.get_booster().save_config())["learner"]["objective"]["name"]


def xgboost_raw(g: Graph, x: str, model: Any) -> tuple[str, str]:
    """XGBoost margins [N, k] (k = 1 for binary and regression) and the objective, from the model's JSON.

    XGBoost reads features as float32 and sends a row left when `x < split_condition` (float32), NaN by
    `default_left`. The input is rounded through float32 and each threshold becomes the largest float32 below
    it, so ONNX's `x <= t` takes exactly the same branch. XGBoost adds the trees in float32 (a float64 sum is 1e-6
    apart), so each tree gets its own output column and a float32 CumSum adds them in XGBoost's order (exact).
    The per-tree tensor is rows x trees floats.
    With early stopping only the trees up to the best iteration count, as in `predict`.
    """
    import json

    booster = model.get_booster()
    doc = json.loads(bytes(booster.save_raw("json")))
    learner = doc["learner"]
    objective = learner["objective"]["name"]
    if objective not in (*XGB_CLASSIFICATION, *XGB_IDENTITY, *XGB_EXP):
        raise ExportError(f"XGBoost objective {objective!r} cannot be exported to ONNX; supported: "
                          f"{', '.join((*XGB_CLASSIFICATION, *XGB_IDENTITY, *XGB_EXP))}.")
    gb = learner["gradient_booster"]
    if gb["name"] != "gbtree":
        raise ExportError(f"XGBoost booster {gb['name']!r} cannot be exported to ONNX (only 'gbtree').")
    trees, tree_info = gb["model"]["trees"], gb["model"]["tree_info"]
    k = max(1, int(learner["learner_model_param"]["num_class"]))
    best = getattr(booster, "best_iteration", None) if "best_iteration" in booster.attributes() else None
    if best is not None:
        per_round = k * max(1, int(gb["model"]["gbtree_model_param"].get("num_parallel_tree", "1")))
        trees, tree_info = trees[:(int(best) + 1) * per_round], tree_info[:(int(best) + 1) * per_round]
    base = _xgb_base_margin(booster, objective, float(learner["learner_model_param"]["base_score"]), trees, k)
    per_class = len(trees) // k
    seen = np.zeros(k, dtype=np.int64)
    nodes = TreeNodes()
    for t, (tree, target) in enumerate(zip(trees, tree_info, strict=True)):
        if tree.get("categories_nodes"):
            raise ExportError("XGBoost categorical splits cannot be exported to ONNX (mlengine encodes categories "
                              "before the model).")
        left = np.asarray(tree["left_children"], dtype=np.int64)
        right = np.asarray(tree["right_children"], dtype=np.int64)
        cond = np.asarray(tree["split_conditions"], dtype=np.float32)
        leaf = left == -1
        below = np.nextafter(cond, np.float32(-np.inf)).astype(np.float64)
        leaves = np.flatnonzero(leaf)
        values = cond[leaf].astype(np.float64) + (base if seen[target] == 0 else 0.0)
        column = int(target) * per_class + int(seen[target])  # one output column per tree, in boosting order
        seen[target] += 1
        nodes.add_tree(t, np.asarray(tree["split_indices"], dtype=np.int64), below, left, right,
                       np.asarray(tree["default_left"], dtype=bool), leaf, leaves, np.full(len(leaves), column),
                       values)
    # XGBoost adds the trees one after another in float32, from the base margin: CumSum in float32 does the same
    x32 = g.cast(g.cast(x, np.float32), np.float64)
    per_tree = g.cast(tree_ensemble(g, x32, nodes, k * per_class), np.float32)
    per_tree = g.op("Reshape", [per_tree, g.const(np.array([0, k, per_class], dtype=np.int64), hint="shape")])
    total = g.op("Gather", [g.op("CumSum", [per_tree, g.const(np.int64(2), hint="axis2")]),
                            g.const(np.int64(per_class - 1), hint="last")], axis=2)
    return g.cast(total, np.float64), objective


def _xgb_base_margin(booster: Any, objective: str, base_score: float, trees: list[dict[str, Any]], k: int) -> float:
    """XGBoost's float32 base margin (`ProbToMargin(base_score)`), found exactly: libm's float32 logf and a float64
    logit can differ by an ulp (3e-8 in probabilities), so the float32 values around the logit are tried on two
    probe rows (all missing, all zero) until XGBoost's own margins are reproduced by the float32 tree-by-tree sum."""
    import xgboost as xgb

    if objective == "binary:logistic":
        approx = np.log(base_score / (1.0 - base_score))
    elif objective in XGB_EXP:
        approx = np.log(base_score)
    else:
        return float(np.float32(base_score))
    n_features = booster.num_features()
    probes = np.vstack([np.full(n_features, np.nan, dtype=np.float32), np.zeros(n_features, dtype=np.float32)])
    dm = xgb.DMatrix(probes, missing=np.nan)
    rounds = (0, len(trees) // k)  # the trees exported (all, or up to the best iteration)
    margin = np.asarray(booster.predict(dm, output_margin=True, iteration_range=rounds),
                        dtype=np.float32).reshape(2, -1)[:, 0]
    leaves = np.asarray(booster.predict(dm, pred_leaf=True, iteration_range=rounds)).astype(np.int64)
    leaves = leaves.reshape(2, -1)[:, ::k]  # class 0's trees (the base margin is the same for every class)
    values = np.stack([np.asarray(trees[t * k]["split_conditions"], dtype=np.float32)[leaves[:, t]]
                       for t in range(leaves.shape[1])], axis=1)
    candidate = np.float32(approx)
    below, above = candidate, candidate
    candidates = [candidate]
    for _ in range(4):
        above, below = np.nextafter(above, np.float32(np.inf)), np.nextafter(below, np.float32(-np.inf))
        candidates += [above, below]
    for c in candidates:
        total = np.full(2, c, dtype=np.float32)
        for j in range(values.shape[1]):
            total = total + values[:, j]
        if np.array_equal(total, margin):
            return float(c)
    return float(candidate)
