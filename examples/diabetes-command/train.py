"""A user's own training script, run by cml-bot as `train.command` (see docs/training-contract.md).

It trains a ridge regression on scikit-learn's bundled diabetes data and writes, into the folder
cml-bot names:
  model/            an MLflow model (so cml-bot can register, load and re-score it)
  predictions.csv   row_id,label,prediction for every evaluation row
  params.json       the parameters it actually used
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import mlflow.sklearn
import pandas as pd
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--params", default="{}", help="JSON object of overrides")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    params = {"alpha": 1.0, **json.loads(args.params)}

    frame = load_diabetes(as_frame=True).frame
    frame.insert(0, "patient", range(len(frame)))  # a stable row id
    train, test = train_test_split(frame, test_size=0.3, random_state=args.seed)
    features = [c for c in frame.columns if c not in ("patient", "target")]

    model = make_pipeline(StandardScaler(), Ridge(alpha=float(params["alpha"])))
    model.fit(train[features], train["target"])
    print(f"trained Ridge(alpha={params['alpha']}) on {len(train)} rows", flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    mlflow.sklearn.save_model(
        model, str(args.out / "model"), serialization_format="skops", skops_trusted_types=[]
    )
    pd.DataFrame(
        {
            "row_id": test["patient"],
            "label": test["target"],
            "prediction": model.predict(test[features]),
        }
    ).to_csv(args.out / "predictions.csv", index=False)
    (args.out / "params.json").write_text(json.dumps(params))


if __name__ == "__main__":
    main()
