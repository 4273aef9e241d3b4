"""``python -m linetally``: the same as the ``linetally`` command."""

import sys

from ._cli import main

sys.exit(main())
