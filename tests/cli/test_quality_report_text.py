"""The quality report as a terminal shows it: a frame most samples share stands out."""

from seedbed.cli.quality_report import render_report


def test_a_shared_frame_is_shown_with_the_seeds_share():
    report = {
        "accepted": 4,
        "requested": 4,
        "shared_frames": {
            "question": {
                "opening": {"words": "i need to", "share": 0.75, "seeds_share": 0.0},
                "closing": {"words": "me with that", "share": 0.75, "seeds_share": 0.5},
            }
        },
    }

    text = render_report(report)

    assert '"i need to" in 75% (seeds 0%); "me with that" in 75% (seeds 50%)' in text
