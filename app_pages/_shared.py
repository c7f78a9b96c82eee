"""Caching at the page boundary and small widgets used by several pages."""

import streamlit as st

from emotion_core import runs, settings
from emotion_core.compare import describe_test_set
from emotion_core.config import SYNTHETIC
from emotion_core.data import load_data
from emotion_core.data.discovery import find_sources
from emotion_core.errors import EmotionCoreError
from emotion_core.reference import reference_runs
from emotion_core.models.io import DEFAULT, default_model_path, load_model, resolve_model_path


@st.cache_data(show_spinner="Loading faces…", max_entries=6)
def cached_data(source, split):
    """A Dataset, decoded once per session (and from disk cache across sessions)."""
    return load_data(source, split=split)


@st.cache_resource(show_spinner="Loading model…", max_entries=8)
def cached_model(path, modified):
    """A Keras model; `modified` (the file's mtime) makes a retrained model reload."""
    return load_model(path)


def model_for(ref):
    """Load a run folder / .keras / `default` through the cache; ModelLoadError on failure."""
    path = resolve_model_path(ref)
    return cached_model(str(path), path.stat().st_mtime)


DATA_FOLDER_KEY = "data_folder"  # not a widget's key: Streamlit forgets those when another page is shown


def data_folder():
    """The FER2013 folder chosen on Home, kept for the session and remembered by the server."""
    if DATA_FOLDER_KEY not in st.session_state:
        st.session_state[DATA_FOLDER_KEY] = settings.remembered_data_folder()
    return st.session_state[DATA_FOLDER_KEY]


def data_source_picker(key="data_source", label="Data", *, split=None):
    """Select box of the data sources found (the app's data folder first); returns the source string.

    With `split`, what that split's scan ignored (a `happy/sub/` folder, an unknown class name,
    an emotion without faces) is shown under the box, before anything is trained on it.
    """
    options = find_sources(data_folder())
    labels = [name for name, _ in options]
    choice = st.selectbox(label, labels, key=key)
    source = dict(options)[choice]
    if source != SYNTHETIC:
        st.caption(source)  # the whole path, where it can wrap
        if split:
            try:
                for warning in cached_data(source, split).warnings:
                    st.warning(plain(warning))
            except EmotionCoreError:
                pass  # the page that loads the data shows the error itself
    return source


def model_choices():
    """(label, reference, note) for the shipped model and every run that has a model; the note
    (accuracy and test set) goes under the box: in it, a long label was cut at 1024 px."""
    choices = []
    if default_model_path().exists():
        choices.append(("Shipped default model", DEFAULT, ""))
    for info in runs.list_runs() + reference_runs():
        if runs.has_model(info.path) and not info.damaged:
            acc = (info.evaluation or {}).get("accuracy")
            note = (f"{acc:.1%} on {describe_test_set(info.evaluation)}" if acc is not None else info.state)
            kind = "Reference: " if runs.is_reference(info.path) else ""
            choices.append((f"{kind}{info.name}", str(info.path), f"{info.config.get('model')}: {note}"))
    return choices


def model_picker(key="model_ref", label="Model"):
    """Select box over `model_choices()`, its note as a caption; returns a model reference or
    None when there is none."""
    choices = model_choices()
    if not choices:
        st.info("No model yet: train one on the **Train & compare** page (the shipped default model is missing).")
        return None
    # Chosen by reference, shown by name: two runs given the same name stay two choices.
    names = {ref: name for name, ref, _ in choices}
    chosen = st.selectbox(label, list(names), format_func=names.get, key=key)
    note = {ref: note for _, ref, note in choices}[chosen]
    if note:
        st.caption(plain(note))
    return chosen


PRESENTATION_KEY = "presentation"  # the sidebar toggle in app.py; every page reads it
ROOT_FONT_PX = 16  # Streamlit's 1rem
PRESENTATION_FONT_PX = 21  # 1rem in presentation mode
# Streamlit sizes its text in rem: a larger root font scales every page for a projector.
# Its padding is in rem too, so it is narrowed again: the confusion matrix needs the width.
PRESENTATION_CSS = (f"<style>html {{ font-size: {PRESENTATION_FONT_PX}px; }} "
                    "[data-testid='stMainBlockContainer'] { padding-left: 1rem; padding-right: 1rem; }</style>")
# Presentation mode needs the sidebar's 300 px for the page: switching it on folds the sidebar
# away once (Streamlit has no call for that; its own button is clicked), and the teacher can
# open it again to switch back.
COLLAPSE_SIDEBAR_JS = ("<script>document.querySelector('button[aria-controls=\"stSidebar\"][aria-expanded=\"true\"]')"
                       "?.click();</script>")
# Streamlit's own "Running..." indicator flickers on every 2-s poll of a live view and its Stop
# stops nothing of a training; the app's Stop button is the one that does.
QUIET_CSS = '<style>[data-testid="stStatusWidget"] { visibility: hidden; }</style>'
# Text bars ("sad ████·· 71%") line up only in a monospaced font; `text_card_width` sizes the
# card they are in so that no line wraps. Streamlit's st.text uses the body font since 1.4x.
TEXT_BAR_EM = 0.75  # their font size, in rem
LAYOUT_CSS = ("<style>[class*='st-key-text-card-'] [data-testid='stText'] "
              f"{{ font-size: {TEXT_BAR_EM}rem; line-height: 1.4; }} "
              "[class*='st-key-text-card-'] [data-testid='stText'] * "
              "{ font-family: 'Source Code Pro', monospace; font-size: inherit; white-space: pre; }</style>")


def presenting():
    """True while presentation mode (large fonts, figures for 1024x768) is on for this session."""
    return bool(st.session_state.get(PRESENTATION_KEY, False))


def rem_px():
    """Pixels in 1rem on this session's pages (larger in presentation mode)."""
    return PRESENTATION_FONT_PX if presenting() else ROOT_FONT_PX


def text_card_width(text, *, least_rem=9.0):
    """The width in px of a card holding `text` (lines of text bars, in LAYOUT_CSS's monospaced
    font: 0.6 em a character) without wrapping a line, and at least `least_rem` wide (a face
    and its name)."""
    longest = max((len(line) for line in str(text).splitlines()), default=0)
    return round(rem_px() * max(least_rem, 0.6 * TEXT_BAR_EM * longest + 0.5))


GRADCAM_EXPLAINED = (
    "The model's last convolution layer turns the face into a stack of small feature maps, each "
    "lighting up where it finds a pattern such as a mouth corner or a frown line. Grad-CAM asks how "
    "the score of the chosen emotion would change if each map grew: the gradients of that score with "
    "respect to the maps. Averaging each map's gradients gives it one weight, its importance for that "
    "emotion. The weighted sum of the maps, with negative values set to zero (ReLU), is the heatmap; it "
    "is enlarged from the maps' small grid to the face's size and drawn over it, red where the evidence "
    "for the emotion lies and blue where there is none.")


def gradcam_explainer():
    """A closed "How Grad-CAM works" expander, for beside the first heatmaps a student sees."""
    with st.expander("How Grad-CAM works", icon=":material/help:"):
        st.markdown(GRADCAM_EXPLAINED)


def show_figure(figure, *, key=None, width="stretch"):
    """st.plotly_chart with the app's habits: larger text when presenting, and no toolbar
    (it covered subplot titles; zoom is still a drag, reset a double click)."""
    if presenting():
        figure.update_layout(font=dict(size=18))
    return st.plotly_chart(figure, width=width, key=key, config={"displayModeBar": False})


def show_error(error):
    """One clear message for an error a user caused (an EmotionCoreError; pages catch nothing else).

    Messages may quote what a user typed or uploaded (a file name, a path), so they are shown
    as plain text: Markdown in a name must not render.
    """
    st.error(plain(str(error)))


def plain(text):
    """`text` with Markdown's special characters escaped, for user-supplied names in messages."""
    return "".join("\\" + c if c in "\\`*_[]<>#~$|" else c for c in str(text))


@st.cache_resource(show_spinner=False, max_entries=8)
def _cached_explainer(path, modified):
    from emotion_core.explain import GradCam

    return GradCam(cached_model(path, modified))


def explainer_for(ref):
    """A Grad-CAM explainer (which also predicts) for a model reference, built once."""
    path = resolve_model_path(ref)
    return _cached_explainer(str(path), path.stat().st_mtime)
