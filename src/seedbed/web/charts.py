"""Charts drawn on the server as inline SVG (no chart library, nothing from another
host): each score's distribution per experiment, as grouped bars per score interval."""

from collections.abc import Sequence
from dataclasses import dataclass

from seedbed.domain.experiments import Experiment
from seedbed.services.experiment_comparison import ScoreDistribution
from seedbed.web.figures import score

# One colour per experiment, in the order compared (the baseline first).
PALETTE = ("#2f6f2c", "#1f5fa8", "#b35c00", "#7a3fa0", "#a3261d")
WIDTH, HEIGHT = 520, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 10, 10, 30


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    x: float
    y: float
    text: str


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    width: int
    height: int
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    legend: list[tuple[str, str]]  # (colour, experiment name)
    description: str
    baseline_y: float


def distribution_chart(found: ScoreDistribution, experiments: Sequence[Experiment]) -> Chart:
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    bins = len(found.counts[0]) if found.counts else 0
    tallest = max((count for counts in found.counts for count in counts), default=0) or 1
    group = plot_width / max(1, bins)
    bar_width = group * 0.8 / max(1, len(found.counts))
    step = (found.high - found.low) / max(1, bins)
    bars = []
    for index, (experiment, counts) in enumerate(zip(experiments, found.counts, strict=False)):
        for position, count in enumerate(counts):
            height = plot_height * count / tallest
            low = found.low + position * step
            bars.append(
                Bar(
                    x=LEFT + position * group + group * 0.1 + index * bar_width,
                    y=TOP + plot_height - height,
                    width=bar_width,
                    height=height,
                    color=PALETTE[index % len(PALETTE)],
                    title=f"{experiment.name}: {count} items scored {score(low)}–{score(low + step)}",
                )
            )
    x_ticks = [
        Tick(
            LEFT + plot_width * share,
            HEIGHT - BOTTOM + 16,
            score(found.low + share * (found.high - found.low)),
        )
        for share in (0, 0.5, 1)
    ]
    y_ticks = [Tick(LEFT - 6, TOP + plot_height, "0"), Tick(LEFT - 6, TOP + 10, str(tallest))]
    return Chart(
        name=found.name,
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        legend=[
            (PALETTE[index % len(PALETTE)], experiment.name)
            for index, experiment in enumerate(experiments)
        ],
        description=(
            f"Distribution of {found.name} from {score(found.low)} to {score(found.high)},"
            f" items per interval, per experiment"
        ),
        baseline_y=TOP + plot_height,
    )
