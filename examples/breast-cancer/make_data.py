"""Writes data/tumors.csv from scikit-learn's bundled Wisconsin breast cancer dataset.

The label becomes readable (`diagnosis`: malignant/benign), each row gets a stable `patient_id`,
and `size_band` (small/medium/large by mean radius tertile) gives the report a slice to compare.
Run it again to regenerate the committed file: `python make_data.py`.
"""

from pathlib import Path

import pandas as pd
from sklearn.datasets import load_breast_cancer

bunch = load_breast_cancer(as_frame=True)
frame = bunch.frame.copy()
frame.columns = [c.replace(" ", "_") for c in frame.columns]
frame["diagnosis"] = frame.pop("target").map(dict(enumerate(bunch.target_names)))
frame["size_band"] = pd.qcut(frame["mean_radius"], 3, labels=["small", "medium", "large"])
frame.insert(0, "patient_id", [f"p{i:04d}" for i in range(len(frame))])
out = Path(__file__).parent / "data" / "tumors.csv"
frame.round(6).to_csv(out, index=False)
print(f"wrote {out} ({len(frame)} rows)")
