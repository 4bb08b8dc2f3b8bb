#!/usr/bin/env python3
"""Builds Switchboard's price book (Sources/SwitchboardCore/Resources/price-book.json) from the
reference price file, checked against the published prices of provider-wire-facts.md section 8.

    scripts/build-price-book.py [REFERENCE_JSON] [OUTPUT_JSON]

The reference gives USD per token as floats; the price book keeps USD per million tokens as exact
decimal strings (Switchboard turns them into integer nano-dollars). Only the standard tier is
kept: OpenAI and Anthropic chat models (and the free moderation models), input, cached input,
5-minute and 1-hour cache writes, output, and the long-context tier. The script stops when a
model of section 8 disagrees with the reference, unless a correction below says which is right.
"""

import json
import re
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT.parent / "shared/reference/model-prices-openai-anthropic.json"
OUTPUT = ROOT / "Sources/SwitchboardCore/Resources/price-book.json"

# provider-wire-facts.md section 8: USD per million tokens, standard tier.
# (input, cached input, cache write 5m, cache write 1h, output); None where not charged.
PUBLISHED = {
    "gpt-4o": ("2.50", "1.25", None, None, "10.00"),
    "gpt-4o-mini": ("0.15", "0.075", None, None, "0.60"),
    "gpt-4.1": ("2.00", "0.50", None, None, "8.00"),
    "gpt-4.1-mini": ("0.40", "0.10", None, None, "1.60"),
    "gpt-4.1-nano": ("0.10", "0.025", None, None, "0.40"),
    "o3": ("2.00", "0.50", None, None, "8.00"),
    "o4-mini": ("1.10", "0.275", None, None, "4.40"),
    "o3-mini": ("1.10", "0.55", None, None, "4.40"),
    "claude-haiku-4-5": ("1.00", "0.10", "1.25", "2.00", "5.00"),
    "claude-sonnet-4-5": ("3.00", "0.30", "3.75", "6.00", "15.00"),
    "claude-opus-4-5": ("5.00", "0.50", "6.25", "10.00", "25.00"),
}
# Section 8's long-context step for Sonnet 4.5, above 200k input tokens.
PUBLISHED_LONG = {"claude-sonnet-4-5": ("200000", "6.00", "0.60", "7.50", "12.00", "22.50")}
# Known errors of LiteLLM-derived data (section 8): the published figure wins.
SONNET_4_5_LONG = {
    "long_context": {
        "above_input_tokens": 200000, "input": "6", "cached_input": "0.6", "cache_write_5m": "7.5",
        "cache_write_1h": "12", "output": "22.5",
    }
}
CORRECTIONS = {
    # The reference omits the step above 200k input tokens that section 8 records.
    "claude-sonnet-4-5": SONNET_4_5_LONG,
    "claude-sonnet-4-5-20250929": SONNET_4_5_LONG,
    "claude-3-5-haiku-20241022": {"cache_write_1h": "1.60"},
    "claude-3-5-haiku-latest": {
        "input": "0.80", "output": "4.00", "cache_write_5m": "1.00", "cache_write_1h": "1.60", "cached_input": "0.08",
    },
}


def per_million(value):
    """USD per token (a float) as USD per million tokens, an exact short decimal string."""
    if value is None:
        return None
    text = format(Decimal(repr(value)) * 1_000_000, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def tier(entry, suffix=""):
    prices = {
        "input": per_million(entry.get(f"input_cost_per_token{suffix}")),
        "cached_input": per_million(entry.get(f"cache_read_input_token_cost{suffix}")),
        "cache_write_5m": per_million(entry.get(f"cache_creation_input_token_cost{suffix}")),
        "cache_write_1h": per_million(entry.get(f"cache_creation_input_token_cost_above_1hr{suffix}")),
        "output": per_million(entry.get(f"output_cost_per_token{suffix}")),
    }
    return {key: value for key, value in prices.items() if value is not None}


def main():
    reference = Path(sys.argv[1]) if len(sys.argv) > 1 else REFERENCE
    output = Path(sys.argv[2]) if len(sys.argv) > 2 else OUTPUT
    data = json.loads(reference.read_text())
    models = {}
    for name, entry in sorted(data.items()):
        provider = entry.get("litellm_provider")
        if provider not in ("openai", "anthropic") or entry.get("mode") not in ("chat", "moderation"):
            continue
        if "input_cost_per_token" not in entry or "output_cost_per_token" not in entry:
            continue
        model = {"provider": provider, **tier(entry)}
        thresholds = sorted(
            {int(match.group(1)) * 1000 for key in entry if (match := re.search(r"_above_(\d+)k_tokens$", key))}
        )
        if thresholds:
            threshold = thresholds[0]
            long = tier(entry, f"_above_{threshold // 1000}k_tokens")
            # A 1-hour write above the threshold is spelled ..._above_1hr_above_Nk_tokens.
            hour = per_million(entry.get(f"cache_creation_input_token_cost_above_1hr_above_{threshold // 1000}k_tokens"))
            if hour is not None:
                long["cache_write_1h"] = hour
            if long:
                model["long_context"] = {"above_input_tokens": threshold, **long}
        if entry.get("prompt_cache_min_tokens"):
            model["prompt_cache_min_tokens"] = entry["prompt_cache_min_tokens"]
        if entry.get("deprecation_date"):
            model["deprecated"] = entry["deprecation_date"]
        model.update(CORRECTIONS.get(name, {}))
        models[name] = model

    problems = []
    for name, (inp, cached, write5, write1, out) in PUBLISHED.items():
        model = models.get(name)
        if model is None:
            problems.append(f"{name}: published in section 8, missing from the reference")
            continue
        expected = {"input": inp, "cached_input": cached, "cache_write_5m": write5, "cache_write_1h": write1, "output": out}
        for key, value in expected.items():
            have = model.get(key)
            if value is None and have is None:
                continue
            if value is None or have is None or Decimal(value) != Decimal(have):
                problems.append(f"{name}.{key}: reference {have}, published {value}")
    for name, (above, inp, cached, write5, write1, out) in PUBLISHED_LONG.items():
        long = models.get(name, {}).get("long_context", {})
        expected = {"input": inp, "cached_input": cached, "cache_write_5m": write5, "cache_write_1h": write1, "output": out}
        if long.get("above_input_tokens") != int(above):
            problems.append(f"{name}: long-context threshold {long.get('above_input_tokens')}, published {above}")
        for key, value in expected.items():
            if key in long and Decimal(long[key]) != Decimal(value):
                problems.append(f"{name}.long_context.{key}: reference {long[key]}, published {value}")
    if problems:
        sys.exit("the reference disagrees with the published prices:\n  " + "\n  ".join(problems))

    book = {
        "about": "USD per million tokens, standard tier. Built by scripts/build-price-book.py from "
        "model-prices-openai-anthropic.json, checked against provider-wire-facts.md section 8.",
        "models": models,
    }
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(book, indent=1, sort_keys=True) + "\n")
    print(f"{output}: {len(models)} models")


if __name__ == "__main__":
    main()
