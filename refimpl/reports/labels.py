"""Short labels for samplers in tables (the experiments, the command line and the benchmarks share them)."""
import dataclasses


def sampler_label(sampler):
    """A sampler's repr with only the fields that differ from their defaults, so tables stay narrow."""
    if not dataclasses.is_dataclass(sampler):
        return repr(sampler)
    parts = []
    for field in dataclasses.fields(sampler):
        value = getattr(sampler, field.name)
        if field.default is dataclasses.MISSING or value != field.default:
            parts.append(f"{field.name}={sampler_label(value)}")
    return f"{type(sampler).__name__}({', '.join(parts)})"
