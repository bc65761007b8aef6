import sys

from fleet._cli import main

sys.exit(main())
