"""``python -m linetally``: the same as the ``linetally`` command."""

from ._stdio import console_main

console_main()
