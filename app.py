"""Entry point: `streamlit run app.py`. A picture frame that routes to the pages."""

# streamlit-webrtc (the Live page's video) loads libsrtp, which crashes the process when it is
# loaded after TensorFlow (their bundled crypto libraries clash); loaded first, both work.
import streamlit_webrtc  # noqa: F401  (keep above every import that loads TensorFlow)
import streamlit as st

st.set_page_config(page_title="Emotion recognition from faces", page_icon=":material/sentiment_satisfied:", layout="wide")

pages = [
    st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("app_pages/train.py", title="Train & compare", icon=":material/monitoring:"),
    st.Page("app_pages/mistakes.py", title="Mistakes", icon=":material/search:"),
    st.Page("app_pages/audit.py", title="Label audit", icon=":material/fact_check:"),
    st.Page("app_pages/live.py", title="Live", icon=":material/photo_camera:"),
]
from app_pages._shared import (COLLAPSE_SIDEBAR_JS, LAYOUT_CSS, PRESENTATION_CSS, PRESENTATION_KEY,  # noqa: E402
                                QUIET_CSS)

COLLAPSE_KEY = "collapse_sidebar"  # set when presentation mode is switched on: fold the sidebar once


def _presentation_switched():
    st.session_state[COLLAPSE_KEY] = st.session_state[PRESENTATION_KEY]


if PRESENTATION_KEY not in st.session_state:  # a reload or a shared link keeps the mode (?present=1)
    st.session_state[PRESENTATION_KEY] = st.query_params.get("present") == "1"
    _presentation_switched()
with st.sidebar:
    st.toggle("Presentation mode", key=PRESENTATION_KEY, on_change=_presentation_switched,
              help="Large text and figures sized for a 1024x768 projector, the sidebar folded away; "
                   "stays on for this session.")
if st.session_state[PRESENTATION_KEY]:
    st.query_params["present"] = "1"
else:
    st.query_params.pop("present", None)
st.html(QUIET_CSS + LAYOUT_CSS + (PRESENTATION_CSS if st.session_state.get(PRESENTATION_KEY) else ""))
if st.session_state.pop(COLLAPSE_KEY, False):
    st.html(COLLAPSE_SIDEBAR_JS, unsafe_allow_javascript=True)
st.navigation(pages).run()
