"""emotion_core: emotion recognition from faces, the library under the app and the CLI.

It never imports Streamlit and never prints; pages and the CLI do the talking.
"""

__version__ = "0.1.0"
