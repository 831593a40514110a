"""ONNX for the feature steps: the adapter's typed inputs, the ColumnTransformer, selectors and reducers.

Data flows through the graph as either named columns (the adapter's outputs, one ONNX input each: float64
[N, 1] for numbers, booleans and derived datetime parts, string [N, 1] for categories) or a float64 matrix
[N, F]. Every step computes in float64 with the same operations, in the same order, as scikit-learn, so the
features reaching the model match to the last bit or nearly (matrix products may sum in another order).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from mlengine.errors import ExportError
from mlengine.export.onnx_graph import Graph


@dataclass(frozen=True)
class InputSpec:
    """One ONNX input: an adapter output column."""

    name: str  # ONNX input name = adapter output column
    dtype: str  # "float64" | "string"
    source: str  # raw column it comes from
    kind: str  # numeric | boolean | datetime | categorical
    part: str | None = None  # datetime part (year, month, ...)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "dtype": self.dtype, "source": self.source, "kind": self.kind,
                **({"part": self.part} if self.part else {})}


OUTPUT_NAMES = ("label", "probabilities", "prediction")


def adapter_inputs(adapter: Any) -> list[InputSpec]:
    """The ONNX inputs for a FrameAdapter, in the adapter's output order. An input is named after its column
    (datetime parts `<column>__<part>`), with `__input` appended if that name is one of the output names."""
    def n(name: str) -> str:
        return f"{name}__input" if name in OUTPUT_NAMES else name

    specs = [InputSpec(n(c), "float64", c, "numeric") for c in adapter.numeric]
    specs += [InputSpec(n(c), "float64", c, "boolean") for c in adapter.boolean]
    specs += [InputSpec(f"{c}__{p}", "float64", c, "datetime", p) for c in adapter.datetime
              for p in adapter.datetime_features]
    specs += [InputSpec(n(c), "string", c, "categorical") for c in adapter.categorical]
    return specs


@dataclass
class Columns:
    """Named [N, 1] tensors (numbers as float64, categories as strings)."""

    tensors: dict[str, str]
    strings: set[str]


INPUT_DOCS = {"numeric": "number (float64; NaN = missing)",
              "boolean": "boolean as float64 (1.0 true, 0.0 false, NaN missing)",
              "datetime": "calendar part of a datetime column, as float64 (NaN = missing)",
              "categorical": "category as a string ('' = missing)"}


def input_doc(s: InputSpec) -> str:
    """The doc string of an ONNX input."""
    return INPUT_DOCS[s.kind] + (f"; {s.part} of raw column {s.source!r}" if s.part else "")


# ------------------------------------------------------------------------------------ ColumnTransformer ---
def column_transformer(g: Graph, ct: Any, cols: Columns) -> str:
    """A fitted ColumnTransformer over named columns -> float64 matrix."""
    if getattr(ct, "sparse_output_", False):
        raise ExportError("a ColumnTransformer with sparse output cannot be exported to ONNX.")
    names = list(getattr(ct, "feature_names_in_", []))
    blocks = []
    for name, trans, selected in ct.transformers_:
        selected = _column_names(selected, names)
        if (isinstance(trans, str) and trans == "drop") or not selected:
            continue
        missing = [c for c in selected if c not in cols.tensors]
        if missing:
            raise ExportError(f"ColumnTransformer step {name!r} uses columns the model inputs do not provide: "
                              f"{', '.join(missing)}.")
        strings = [c for c in selected if c in cols.strings]
        if strings and len(strings) != len(selected):
            raise ExportError(f"ColumnTransformer step {name!r} mixes text and numeric columns.")
        block: Any = [cols.tensors[c] for c in selected] if strings else g.concat([cols.tensors[c] for c in selected])
        blocks.append(_transform_block(g, trans, block, name))
    if not blocks:
        raise ExportError("the ColumnTransformer produces no columns.")
    return g.concat(blocks)


def _column_names(selected: Any, names: list[str]) -> list[str]:
    if isinstance(selected, str):
        return [selected]
    sel = list(np.asarray(selected).ravel()) if not isinstance(selected, slice) else names[selected]
    if sel and all(isinstance(s, (bool, np.bool_)) for s in sel):
        return [n for n, keep in zip(names, sel, strict=True) if keep]
    return [names[int(s)] if isinstance(s, (int, np.integer)) else str(s) for s in sel]


def _transform_block(g: Graph, trans: Any, block: Any, where: str) -> str:
    """Apply a transformer (or a Pipeline of them) to a block: a list of string columns or a float64 matrix."""
    from sklearn.pipeline import Pipeline

    if isinstance(trans, str):
        if trans != "passthrough":
            raise ExportError(f"ColumnTransformer step {where!r}: {trans!r} cannot be exported.")
        if isinstance(block, list):
            raise ExportError(f"ColumnTransformer step {where!r} passes text columns through; ONNX features "
                              "must be numbers.")
        return block
    steps = [s for _, s in trans.steps if s not in (None, "passthrough")] if isinstance(trans, Pipeline) \
        else [trans]
    for step in steps:
        block = transform_step(g, step, block, where)
    if isinstance(block, list):
        raise ExportError(f"ColumnTransformer step {where!r} leaves text columns unencoded.")
    return block


# ------------------------------------------------------------------------------------------ transformers ---
def transform_step(g: Graph, step: Any, x: Any, where: str = "") -> Any:
    """One fitted transformer on a float64 matrix (or, for encoders and imputers, a list of string columns)."""
    from sklearn.feature_selection import SelectorMixin

    name = type(step).__name__
    if name == "FunctionTransformer" and step.func is None:  # how a fitted ColumnTransformer stores passthrough
        return x
    if isinstance(step, SelectorMixin):
        return _selector(g, step, _matrix(x, name))
    handler = {"SimpleImputer": _imputer, "StandardScaler": _standard, "RobustScaler": _robust,
               "MinMaxScaler": _minmax, "OneHotEncoder": _onehot, "OrdinalEncoder": _ordinal, "PCA": _pca,
               "TruncatedSVD": _svd}.get(name)
    if handler is None:
        raise ExportError(f"step {where + ': ' if where else ''}{name} has no ONNX converter in mlengine; "
                          "supported: SimpleImputer, StandardScaler, RobustScaler, MinMaxScaler, OneHotEncoder, "
                          "OrdinalEncoder, feature selectors (any SelectorMixin), PCA, TruncatedSVD.")
    return handler(g, step, x)


def _matrix(x: Any, name: str) -> str:
    if isinstance(x, list):
        raise ExportError(f"{name} needs numeric input but receives text columns.")
    return x


def _row(values: Any) -> Any:
    return np.asarray(values, dtype=np.float64).reshape(1, -1)


def _imputer(g: Graph, imp: Any, x: Any) -> Any:
    if getattr(imp, "add_indicator", False):
        raise ExportError("SimpleImputer(add_indicator=True) cannot be exported to ONNX.")
    stats = np.asarray(imp.statistics_)
    if isinstance(x, list):  # categorical imputer: missing marker "" (or the configured string)
        mv = imp.missing_values
        if not isinstance(mv, str):
            raise ExportError("a SimpleImputer on text columns must use a string missing_values (e.g. '').")
        # ai.onnx.ml LabelEncoder maps the marker to 1 (else 0): Equal takes strings only from opset 19 on
        out = []
        for c, v in zip(x, stats, strict=True):
            hit = g.op("LabelEncoder", [c], domain="ai.onnx.ml", keys_strings=[mv], values_int64s=[1],
                       default_int64=0)
            out.append(g.op("Where", [g.cast(hit, np.bool_), g.const(np.array([str(v)], dtype=object)), c]))
        return out
    valid = ~np.isnan(stats.astype(np.float64))
    mv = imp.missing_values
    mask = g.op("IsNaN", [x]) if isinstance(mv, float) and np.isnan(mv) else g.op(
        "Equal", [x, g.const(np.float64(mv))])
    out = g.op("Where", [mask, g.const(_row(np.where(valid, stats, 0.0)), hint="fill"), x])
    if not valid.all():  # scikit-learn drops columns that were entirely missing when fitted
        out = g.columns(out, np.flatnonzero(valid))
    return out


def _standard(g: Graph, sc: Any, x: Any) -> str:
    x = _matrix(x, "StandardScaler")
    if sc.with_mean:
        x = g.op("Sub", [x, g.const(_row(sc.mean_), hint="mean")])
    if sc.with_std:
        x = g.op("Div", [x, g.const(_row(sc.scale_), hint="scale")])
    return x


def _robust(g: Graph, sc: Any, x: Any) -> str:
    x = _matrix(x, "RobustScaler")
    if sc.with_centering:
        x = g.op("Sub", [x, g.const(_row(sc.center_), hint="center")])
    if sc.with_scaling:
        x = g.op("Div", [x, g.const(_row(sc.scale_), hint="scale")])
    return x


def _minmax(g: Graph, sc: Any, x: Any) -> str:
    x = _matrix(x, "MinMaxScaler")
    x = g.op("Add", [g.op("Mul", [x, g.const(_row(sc.scale_), hint="scale")]), g.const(_row(sc.min_), hint="min")])
    if sc.clip:
        lo, hi = sc.feature_range
        x = g.op("Min", [g.op("Max", [x, g.const(np.float64(lo))]), g.const(np.float64(hi))])
    return x


def _string_categories(enc: Any, i: int) -> list[str]:
    cats = list(enc.categories_[i])
    if not all(isinstance(c, str) for c in cats):
        raise ExportError(f"{type(enc).__name__} categories must be strings to export to ONNX; column {i} has "
                          f"{cats[:5]!r}.")
    return cats


def _onehot(g: Graph, enc: Any, x: Any) -> str:
    if not isinstance(x, list):
        raise ExportError("OneHotEncoder on numeric columns cannot be exported to ONNX (mlengine one-hot "
                          "encodes categorical text columns).")
    if enc.handle_unknown == "error":
        raise ExportError("OneHotEncoder(handle_unknown='error') cannot be exported: ONNX cannot raise on an "
                          "unseen category.")
    if getattr(enc, "drop_idx_", None) is not None and any(d is not None for d in enc.drop_idx_):
        raise ExportError("OneHotEncoder(drop=...) cannot be exported to ONNX by mlengine.")
    infrequent = getattr(enc, "infrequent_categories_", None) if getattr(enc, "_infrequent_enabled", False) \
        else None
    out = []
    for i, col in enumerate(x):
        cats = _string_categories(enc, i)
        rare = set(infrequent[i]) if infrequent is not None and infrequent[i] is not None else set()
        frequent = [c for c in cats if c not in rare]
        width = len(frequent) + (1 if rare else 0)
        pos = {c: j for j, c in enumerate(frequent)}
        pos.update({c: len(frequent) for c in rare})
        unknown = len(frequent) if rare and enc.handle_unknown == "infrequent_if_exist" else -1
        idx = g.op("LabelEncoder", [col], domain="ai.onnx.ml", keys_strings=list(pos),
                   values_int64s=list(pos.values()), default_int64=unknown)
        hot = g.op("Equal", [idx, g.const(np.arange(width, dtype=np.int64).reshape(1, -1), hint="range")])
        out.append(g.cast(hot, np.float64))
    return g.concat(out)


def _ordinal(g: Graph, enc: Any, x: Any) -> str:
    if not isinstance(x, list):
        raise ExportError("OrdinalEncoder on numeric columns cannot be exported to ONNX.")
    if enc.handle_unknown != "use_encoded_value":
        raise ExportError("OrdinalEncoder(handle_unknown='error') cannot be exported: ONNX cannot raise on an "
                          "unseen category; use handle_unknown='use_encoded_value'.")
    if getattr(enc, "_infrequent_enabled", False):
        raise ExportError("OrdinalEncoder with min_frequency/max_categories cannot be exported by mlengine.")
    out = []
    for i, col in enumerate(x):
        cats = _string_categories(enc, i)
        code = g.op("LabelEncoder", [col], domain="ai.onnx.ml", keys_strings=cats,
                    values_floats=[float(j) for j in range(len(cats))], default_float=float(enc.unknown_value))
        out.append(g.cast(code, np.float64))
    return g.concat(out)


def _selector(g: Graph, sel: Any, x: str) -> str:
    keep = np.flatnonzero(np.asarray(sel.get_support()))
    if len(keep) == 0:
        raise ExportError(f"{type(sel).__name__} keeps no features.")
    if len(keep) == len(sel.get_support()):
        return x
    return g.columns(x, keep)


def _pca(g: Graph, pca: Any, x: Any) -> str:
    x = _matrix(x, "PCA")
    comp_t = np.ascontiguousarray(np.asarray(pca.components_, dtype=np.float64).T)
    out = g.op("MatMul", [x, g.const(comp_t, hint="components")])
    out = g.op("Sub", [out, g.const(_row(pca.mean_) @ comp_t, hint="mean_proj")])
    if pca.whiten:
        scale = np.sqrt(np.asarray(pca.explained_variance_, dtype=np.float64))
        scale[scale < np.finfo(scale.dtype).eps] = np.finfo(scale.dtype).eps
        out = g.op("Div", [out, g.const(_row(scale), hint="whiten")])
    return out


def _svd(g: Graph, svd: Any, x: Any) -> str:
    x = _matrix(x, "TruncatedSVD")
    comp_t = np.ascontiguousarray(np.asarray(svd.components_, dtype=np.float64).T)
    return g.op("MatMul", [x, g.const(comp_t, hint="components")])
