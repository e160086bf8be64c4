"""Assessment throughput: per-person engine and vectorised population path.

Run: .venv/bin/python bench/bench_engine.py [--n 100000]
Prints median and p99 milliseconds per assessment over the examples and over N generated
intakes, and rows per second for the vectorised path over the same N.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from spinepath import knowledge as kb
from spinepath.pathway.columnar import evaluate_frame, facts_frame
from spinepath.pathway.engine import assess
from spinepath.pathway.facts import flatten
from spinepath.pathway.intake import Intake

ROOT = Path(__file__).resolve().parent.parent
TRI: list[bool | None] = [True, False, False, False, None]
SIDES = ["none", "none", "left", "right", "both", None]


def _tri(rng: random.Random, p_yes: float = 0.05) -> bool | None:
    roll = rng.random()
    if roll < p_yes:
        return True
    return None if roll > 0.9 else False


def generate(rng: random.Random) -> dict[str, Any]:
    """A random but valid intake: mostly benign answers, a few red flags, some unanswered."""
    regions = rng.sample(["neck", "upper_back", "low_back"], k=rng.choice([1, 1, 1, 2]))
    data: dict[str, Any] = {
        "age": rng.randint(16, 95),
        "sex": rng.choice(["female", "male", "other"]),
        "regions": [
            {
                "region": r,
                "duration_weeks": rng.choice([0, 1, 3, 6, 10, 20, 60]),
                "intensity": rng.randint(0, 10),
                "worse_at_night": _tri(rng, 0.1),
                "not_eased_by_rest": _tri(rng, 0.1),
            }
            for r in regions
        ],
        "radiation": {"leg": rng.choice(SIDES), "leg_below_knee": _tri(rng, 0.3)},
        "neurology": {
            "leg_weakness": rng.choice(SIDES),
            "leg_numbness_or_tingling": rng.choice(SIDES),
            "progressing": _tri(rng),
            "walking_leg_pain_eased_by_sitting": _tri(rng, 0.1),
        },
        "cauda_equina": {
            "urinary_difficulty": _tri(rng, 0.02),
            "saddle_numbness": _tri(rng, 0.02),
            "onset_days": rng.choice([None, 2, 20]),
        },
        "systemic": {"fever": _tri(rng), "weight_loss": _tri(rng)},
        "history": {
            "cancer": _tri(rng),
            "trauma": rng.choice(["none", "none", "strain", "minor", "major", None]),
            "osteoporosis": _tri(rng),
        },
        "mimics": {"chest_pain": _tri(rng, 0.01)},
        "treatments_tried": [
            {"type": "physiotherapy", "weeks": rng.choice([0, 4, 8]), "response": "partial"}
        ],
    }
    if rng.random() < 0.6:
        answers: dict[str, Any] = {f"q{i}": rng.random() < 0.3 for i in range(1, 9)}
        answers["q9"] = rng.choice(["not_at_all", "slightly", "moderately", "very_much"])
        data["startback"] = answers
    return data


def _time_each(intakes: list[Intake]) -> list[float]:
    out = []
    for intake in intakes:
        start = time.perf_counter()
        assess(intake)
        out.append(time.perf_counter() - start)
    return out


def _report(label: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    median = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    rate = len(ordered) / sum(ordered)
    print(f"{label}: n={len(ordered)} median={median:.3f} ms p99={p99:.3f} ms ({rate:,.0f}/s)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()

    examples = [
        Intake.model_validate_json(p.read_text())
        for p in sorted((ROOT / "examples").glob("*.json"))
    ]
    rng = random.Random(20261121)
    generated = [Intake.model_validate_json(json.dumps(generate(rng))) for _ in range(args.n)]
    assess(generated[0])  # load the knowledge base outside the timings
    # The generated intakes live for the whole run; keep the collector from rescanning them so
    # the timings measure assessment, not the size of the benchmark's own data.
    gc.freeze()

    if examples:
        _report("examples (x200 each)", _time_each(examples * 200))
    print(f"generated {args.n} intakes; assessing", file=sys.stderr)
    _report("generated", _time_each(generated))

    start = time.perf_counter()
    terms = kb.default().fact_terms
    facts = facts_frame(flatten(i, terms) for i in generated)
    built = time.perf_counter() - start
    start = time.perf_counter()
    frame = evaluate_frame(facts)
    elapsed = time.perf_counter() - start
    print(
        f"vectorised: fact table of {facts.height} rows built in {built:.2f} s; "
        f"rules evaluated in {elapsed:.2f} s ({frame.height / elapsed:,.0f} rows/s)"
    )


if __name__ == "__main__":
    main()
