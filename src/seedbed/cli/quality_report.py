"""A run's or a job's quality report as a person reads it in a terminal."""

import json
from collections.abc import Mapping
from typing import Any

_WORST_SHOWN = 2


def render_report(report: Mapping[str, Any]) -> str:
    lines = [f"quality report: {report.get('accepted')} of {report.get('requested')} samples"]
    rejected = report.get("rejected") or {}
    refused = ", ".join(f"{reason} {count}" for reason, count in sorted(rejected.items()) if count)
    lines.append(f"  refused        {refused or 'none'}")
    diversity = report.get("diversity") or {}
    samples, seeds = diversity.get("samples") or {}, diversity.get("seeds") or {}
    lines.append(
        f"  diversity      distinct-2 {_number(samples.get('distinct_2'))}"
        f" (seeds {_number(seeds.get('distinct_2'))}), compression"
        f" {_number(samples.get('compression_ratio'))} (seeds"
        f" {_number(seeds.get('compression_ratio'))}), pairwise similarity mean"
        f" {_number(diversity.get('mean_pairwise_similarity'))} max"
        f" {_number(diversity.get('max_pairwise_similarity'))}"
    )
    for path, frames in (report.get("shared_frames") or {}).items():
        lines.append(f"  {path:<14} {_frame(frames['opening'])}; {_frame(frames['closing'])}")
    nearest = report.get("nearest_seed_similarity") or {}
    if nearest.get("count"):
        lines.append(
            f"  nearest seed   median {_number(nearest['median'])}, p90 {_number(nearest['p90'])},"
            f" max {_number(nearest['max'])}"
        )
    for path, coverage in (report.get("closed_sets") or {}).items():
        counts = ", ".join(f"{value} {count}" for value, count in coverage["values"].items())
        outside = f"; outside: {coverage['outside']}" if coverage.get("outside") else ""
        lines.append(f"  {path:<14} {counts} (inside the set: {_share(coverage)}){outside}")
    for axis, cells in (report.get("axes") or {}).items():
        cover = ", ".join(
            f"{value} {cell['accepted']}/{cell['planned']}" for value, cell in cells.items()
        )
        lines.append(f"  axis {axis:<9} accepted/planned: {cover}")
    topics = report.get("topics") or {}
    if topics:
        shown = ", ".join(f"{topic} ({count})" for topic, count in list(topics.items())[:6])
        more = f", and {len(topics) - 6} more" if len(topics) > 6 else ""
        lines.append(f"  topics         {len(topics)}: {_clipped(shown, 200)}{more}")
    if report.get("critic"):
        critic = report["critic"]
        lines.append(f"  critic         {critic['count']} scored, mean {_number(critic['mean'])}")
    per_sample = report.get("per_sample") or {}
    lines.append(
        f"  per sample     {_number(per_sample.get('tokens'))} tokens,"
        f" {_number(per_sample.get('seconds'))} s"
    )
    worst = (report.get("worst") or {}).get("closest_to_a_seed") or []
    for entry in worst[:_WORST_SHOWN]:
        sample = json.dumps(entry["sample"], ensure_ascii=False)
        lines.append(f"  closest to a seed ({entry['value']}): {_clipped(sample)}")
    return "\n".join(lines)


def _frame(frame: Mapping[str, Any]) -> str:
    """``"i need to" in 100% (seeds 0%)``: the commonest opening or closing words."""
    seeds = frame.get("seeds_share")
    in_seeds = "" if seeds is None else f" (seeds {seeds:.0%})"
    return f'"{frame["words"]}" in {frame["share"]:.0%}{in_seeds}'


def _share(coverage: Mapping[str, Any]) -> str:
    share = coverage.get("inside_share")
    return "n/a" if share is None else f"{share:.0%}"


def _number(value: Any) -> str:
    return "n/a" if value is None else f"{value:g}"


def _clipped(text: str, limit: int = 140) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
