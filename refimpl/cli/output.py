"""How every command prints its reports: human tables by default, JSON with ``--json``."""
import json


def print_reports(reports, as_json, out):
    if as_json:
        json.dump({"reports": [r.to_json() for r in reports]}, out, indent=2, sort_keys=False)
        out.write("\n")
    else:
        out.write("\n\n".join(r.to_text() for r in reports) + "\n")


def announce_figures(written):
    """Say on stderr which figure files a command wrote."""
    import sys

    print(f"figures written: {', '.join(written)}", file=sys.stderr)
