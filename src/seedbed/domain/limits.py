"""How large the numbers and texts a request carries may be; every surface checks
them at its edge, so an oversized value is a 4xx in the surface's own shape, never a
500 from the database or a 30 MiB prompt paid for at the provider.

Free-text generation fields are measured in characters; an example or a seed object
as its JSON text. The README's configuration section lists the same limits.
"""

import json
from typing import Any

# Numbers stored in the database: a page number times a size stays within 64 bits, a
# sequence number (a version, a job's sample) within the column that holds it.
LARGEST_PAGE = 2**31 - 1
LARGEST_32_BIT = 2**31 - 1
LARGEST_64_BIT = 2**63 - 1
# Tokens one call may ask for: well above any model's output window.
LARGEST_MAX_TOKENS = 1_000_000

# Free text that reaches the provider's prompt.
MAX_INSTRUCTIONS_CHARS = 10_000  # instructions, variation_instructions
MAX_PROMPT_CHARS = 50_000  # a custom prompt, Galileo's prompt, Collinear's prompt
MAX_EXAMPLE_CHARS = 20_000  # one example or seed object, as JSON text


def within_example_size(value: Any) -> Any:
    """``value``, if an example (a string, or an object measured as its JSON text) within
    the limit; else a ValueError, which a surface's validation reports as bad input."""
    size = len(value) if isinstance(value, str) else len(json.dumps(value, default=str))
    if size > MAX_EXAMPLE_CHARS:
        raise ValueError(
            f"an example must be at most {MAX_EXAMPLE_CHARS:,} characters, not {size:,}"
        )
    return value
