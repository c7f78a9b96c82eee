import sys

from emotion_core.cli import main

sys.exit(main())
