"""``python -m tinygrad_bn.experiments NAME``: the same runner as ``tinygrad-bn experiment NAME``."""
import sys

from . import main

sys.exit(main())
