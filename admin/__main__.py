"""``python -m admin``: the same as the ``ecf-admin`` console script."""

import sys

from admin.cli import main

sys.exit(main())
