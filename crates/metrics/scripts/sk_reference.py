#!/usr/bin/env python3
"""scikit-learn reference values for the neurite-metrics cross-check.

Reads {"cases": [...]} as JSON on stdin (written by crates/metrics/tests/crosscheck/mod.rs),
prints {"results": [...]} with one object per case, keyed like the Rust side. Floats are plain
JSON numbers except +inf/-inf/nan, written as the strings "inf", "-inf", "nan"; a metric that
scikit-learn reports as undefined (NaN with a warning) is null.
"""
import json
import math
import multiprocessing
import os
import re
import sys
import warnings

import numpy as np
import sklearn
from sklearn import metrics as M


def enc(x):
    """Encodes a float, array or nested list for JSON."""
    if isinstance(x, np.ndarray):
        return [enc(v) for v in x.tolist()]
    if isinstance(x, (list, tuple)):
        return [enc(v) for v in x]
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    x = float(x)
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def undefined_if_nan(value):
    """None (JSON null) when scikit-learn signals "undefined" with NaN."""
    arr = np.asarray(value, dtype=float)
    return None if np.isnan(arr).any() else value


def integer_supports(report):
    """Undoes a scikit-learn quirk: when no prediction is correct, its counts are float zeros
    and the support column prints as "6.0" instead of "6". neurite always prints integers."""
    fixed = []
    for line in report.split("\n"):
        match = re.search(r" +(\d+)\.0$", line)
        if match:
            line = line[: match.start()] + " {:>9}".format(match.group(1))
        fixed.append(line)
    return "\n".join(fixed)


def reference(case):
    c = case["n_classes"]
    labels = list(range(c))
    y = np.asarray(case["y_true"], dtype=np.int64)
    p = np.asarray(case["y_pred"], dtype=np.int64)
    s = np.asarray(case["scores"], dtype=np.float64).reshape(len(y), c)
    by = np.asarray(case["bin_true"], dtype=np.int64)
    bs = np.asarray(case["bin_scores"], dtype=np.float64)
    out = {}
    out["accuracy"] = M.accuracy_score(y, p)
    out["accuracy_from_scores"] = M.accuracy_score(y, s.argmax(axis=1))
    if c >= 3:
        for k in case["ks"]:
            out[f"top_{k}"] = M.top_k_accuracy_score(y, s, k=k, labels=labels)
    t = case["threshold"]
    out["binary_accuracy"] = M.accuracy_score(by, (bs > t).astype(np.int64))

    out["confusion"] = M.confusion_matrix(y, p, labels=labels)
    for norm in ("true", "pred", "all"):
        out[f"confusion_{norm}"] = M.confusion_matrix(y, p, labels=labels, normalize=norm)
    pr, rc, f1, sup = M.precision_recall_fscore_support(y, p, labels=labels, average=None)
    out.update(precision=pr, recall=rc, f1=f1, support=sup)
    for avg in ("macro", "weighted", "micro"):
        pa, ra, fa, _ = M.precision_recall_fscore_support(y, p, labels=labels, average=avg)
        out[f"precision_{avg}"] = pa
        out[f"recall_{avg}"] = ra
        out[f"f1_{avg}"] = fa
        out[f"precision_score_{avg}"] = M.precision_score(y, p, labels=labels, average=avg)
        out[f"recall_score_{avg}"] = M.recall_score(y, p, labels=labels, average=avg)
        out[f"f1_score_{avg}"] = M.f1_score(y, p, labels=labels, average=avg)
    report = M.classification_report(
        y, p, labels=labels, target_names=case["names"], digits=case["digits"]
    )
    out["report"] = integer_supports(report) if out["accuracy"] == 0 else report

    fpr, tpr, thr = M.roc_curve(by, bs)
    defined = not (np.isnan(fpr).any() or np.isnan(tpr).any())
    out["roc"] = {"fpr": fpr, "tpr": tpr, "thresholds": thr} if defined else None
    out["roc_auc"] = undefined_if_nan(M.roc_auc_score(by, bs))
    prec, rec, thr = M.precision_recall_curve(by, bs)
    out["pr"] = {"precision": prec, "recall": rec, "thresholds": thr}
    out["average_precision"] = M.average_precision_score(by, bs)

    one_hot = np.eye(c, dtype=np.int64)[y]
    for avg in ("macro", "weighted", "micro"):
        if c >= 3:
            auc = M.roc_auc_score(y, s, multi_class="ovr", average=avg, labels=labels)
        else:
            auc = M.roc_auc_score(one_hot, s, average=avg)
        out[f"roc_auc_ovr_{avg}"] = undefined_if_nan(auc)
        out[f"ap_ovr_{avg}"] = M.average_precision_score(one_hot, s, average=avg)
    return {k: (None if v is None else enc(v) if not isinstance(v, (str, dict)) else
                ({kk: enc(vv) for kk, vv in v.items()} if isinstance(v, dict) else v))
            for k, v in out.items()}


def init_worker():
    warnings.simplefilter("ignore")
    # Only speeds up argument checks; the computations are unchanged.
    sklearn.set_config(skip_parameter_validation=True)


def main():
    init_worker()
    cases = json.load(sys.stdin)["cases"]
    workers = min(len(cases) // 50, os.cpu_count() or 1)
    if workers > 1:
        with multiprocessing.Pool(workers, initializer=init_worker) as pool:
            results = pool.map(reference, cases, chunksize=10)
    else:
        results = [reference(case) for case in cases]
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
