"""Print the schema's defaults of a block as YAML: `python -m polyalign.config preference`
(nested blocks as `evaluation bootstrap`; no argument: every default). The docs point here
instead of copying values that the schema alone holds."""

import sys

import yaml

from .schema import block_defaults

if __name__ == "__main__":
    path = sys.argv[1:]
    defaults = block_defaults(*path)
    for key in reversed(path):
        defaults = {key: defaults}
    sys.stdout.write(yaml.safe_dump(defaults, sort_keys=False, allow_unicode=True))
