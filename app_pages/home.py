"""Home: what the app is for, which data it found, the class imbalance and one face per emotion."""

import streamlit as st

from emotion_core.data.discovery import download_fer2013, looks_like_fer2013
from emotion_core.data.examples import example_faces
from emotion_core.labels import EMOTIONS
from emotion_core.plots import class_distribution
from emotion_core.errors import EmotionCoreError
from emotion_core import settings
from app_pages._shared import DATA_FOLDER_KEY, cached_data, data_folder, data_source_picker, plain, show_error, show_figure

st.title("Emotion recognition from faces")
st.markdown(
    """
A classroom lab for the study *Emotion detection from images*: 48×48 grayscale faces
(FER2013), seven emotions, a CNN trained from scratch, and the question every student
should ask — **why does the model get it wrong?**

* **Train & compare** — pick data, an architecture and an imbalance strategy, watch the loss and
  accuracy curves grow live, compare runs side by side.
* **Mistakes** — click a cell of the confusion matrix (neutral vs. sad first) and look at the faces
  with Grad-CAM heatmaps of what the model looked at.
* **Live** — a webcam snapshot or a photo: every face found, labelled, explained.
"""
)


def use_folder(folder):
    """Make `folder` the app's data folder for every page, this session and the next."""
    st.session_state[DATA_FOLDER_KEY] = folder
    settings.remember_data_folder(folder)


def _typed_folder():
    """on_change of the folder box: keep the folder only if the server may read it and it holds FER2013."""
    typed = st.session_state["home_folder_box"].strip()
    st.session_state["home_folder_problem"] = ""
    if not typed:
        return
    if not settings.allowed_data_folder(typed):
        roots = ", ".join(str(r) for r in settings.data_roots())
        st.session_state["home_folder_problem"] = (f"This server reads data only inside {roots}. Copy FER2013 "
                                                   "there, or ask the server's owner to allow the folder.")
    elif not looks_like_fer2013(typed):
        st.session_state["home_folder_problem"] = (f"No FER2013 found at {typed}: expected a folder holding "
                                                   "train/ (and test/) with one folder per emotion.")
    else:
        use_folder(typed)


def data_form():
    """Where FER2013 is, and the data set to show; returns the chosen source."""
    folder = data_folder()
    with st.expander("Where is FER2013?", expanded=not folder):
        st.text_input("Folder with train/ and test/ (Kaggle layout)", value=folder, key="home_folder_box",
                      placeholder="e.g. data/fer2013", on_change=_typed_folder,
                      help="Every page uses this folder, and the app remembers it for the next visit.")
        if st.session_state.get("home_folder_problem"):
            st.warning(plain(st.session_state["home_folder_problem"]))
        if st.button("Download FER2013 from Kaggle"):
            try:
                with st.spinner("Downloading from Kaggle…"):
                    use_folder(str(download_fer2013()))
                st.rerun()
            except EmotionCoreError as error:
                show_error(error)
    return data_source_picker(key="home_data", label="Data set", split="train")


source = data_form()
try:
    train = cached_data(source, "train")
except EmotionCoreError as error:
    show_error(error)
    st.stop()
if train.synthetic:
    st.info("These are **synthetic faces** drawn by the app, so everything works offline. "
            "Point the app at FER2013 above for the real thing.")
left, right = st.columns([3, 2])
with left:
    show_figure(class_distribution(train.class_counts(), title=f"Training images per emotion ({len(train):,})"))
with right:
    counts = train.class_counts()
    ratio = counts.max() / max(counts.min(), 1)
    st.metric("Largest / smallest class", f"{ratio:.0f}×",
              help=f"This set has {ratio:.0f} times more faces of its largest class than of its smallest: "
                   "why class weights matter.")
    st.caption(train.description)
st.subheader("One face per emotion")
columns = st.columns(len(EMOTIONS))
for column, (label, face) in zip(columns, example_faces(train)):
    column.image(face, caption=EMOTIONS[label].capitalize(), width="stretch", clamp=True)
