"""Live: a webcam snapshot or uploaded photos; every face found, labelled and explained.

Uploaded and webcam images are decoded in memory only: never written to disk or logged.
"""

import streamlit as st

from emotion_core.errors import EmotionCoreError
from emotion_core.explain import overlay
from emotion_core.photos.analyse import analyse_photo
from emotion_core.photos.annotate import annotate
from emotion_core.photos.decode import decode_image
from emotion_core.photos.faces import MIN_FACE_FRACTION, MIN_FACE_PIXELS, SMALL_FACE_FRACTION
from emotion_core.plots import probability_bars
from app_pages._shared import explainer_for, model_picker, plain, show_error, show_figure

MAX_FILES = 12


def options_form():
    """Model and display options; returns (model reference or None, show_heatmaps, tta, min_face)."""
    ref = model_picker(key="live_model")
    c1, c2, c3 = st.columns(3)
    show_heatmaps = c1.toggle("Grad-CAM", value=True, key="live_gradcam",
                              help="colour what pushed the model to its answer")
    tta = c2.toggle("Mirror (TTA)", value=False, key="live_tta",
                    help="also classify the mirrored face and average")
    small = c3.toggle("Small faces", value=False, key="live_small_faces",
                      help="also look for faces down to 5% of the photo's shorter side "
                           "(group photos; slower, and more false faces)")
    return ref, show_heatmaps, tta, SMALL_FACE_FRACTION if small else MIN_FACE_FRACTION


def photos_form():
    """(name, bytes) for each photo the user gave, from the uploader or the webcam."""
    upload, webcam = st.tabs([":material/upload: Upload photos", ":material/photo_camera: Webcam snapshot"])
    photos = []
    with upload:
        files = st.file_uploader("Photos (JPEG, PNG, WebP)", type=["jpg", "jpeg", "png", "webp"],
                                 accept_multiple_files=True, key="live_uploads")
        if len(files or []) > MAX_FILES:
            st.warning(f"Showing the first {MAX_FILES} of {len(files)} photos.")
        photos += [(f.name, f.getvalue()) for f in (files or [])[:MAX_FILES]]
    with webcam:
        snapshot = st.camera_input("Take a snapshot", key="live_webcam")
        if snapshot is not None:
            photos.insert(0, ("webcam snapshot", snapshot.getvalue()))
    return photos


def show_photo(index, name, data, explainer, *, show_heatmaps, tta, min_face):
    try:
        image = decode_image(data, name=name, min_side=MIN_FACE_PIXELS)
    except EmotionCoreError as error:
        show_error(error)
        return
    results = analyse_photo(explainer.model, image, explainer=explainer, tta=tta, min_face=min_face)
    if not results:
        st.warning(plain(f"No face found in {name}."))
        if not st.checkbox("Classify the whole image as one face", key=f"live_whole_{index}_{name}"):
            return
        results = analyse_photo(explainer.model, image, explainer=explainer, whole_if_none=True, tta=tta,
                                min_face=min_face)
    photo, faces = st.columns([3, 2])
    # a caption is Markdown: the upload's name is escaped; the picture is never wider than it is drawn
    photo.image(annotate(image, results), caption=plain(f"{name}: {len(results)} face(s)"),
                width=min(image.shape[1], 1200))
    for number, result in enumerate(results, start=1):
        picture, chart = faces.columns([1, 2])
        face = overlay(result.crop, result.heatmap) if show_heatmaps else result.crop
        picture.image(face, caption=f"{number}: {result.emotion}", width="stretch", clamp=True)
        with chart:
            show_figure(probability_bars(result.probabilities), key=f"live_bars_{index}_{number}")


st.title("Live")
st.caption("Every face in a photo, its emotion probabilities, and where the model looked. "
           "Photos stay in memory: nothing is saved.")
ref, show_heatmaps, tta, min_face = options_form()
photos = photos_form()
if ref is not None and photos:
    try:
        explainer = explainer_for(ref)
    except EmotionCoreError as error:
        show_error(error)
        st.stop()
    for index, (name, data) in enumerate(photos):
        with st.container(border=True):
            show_photo(index, name, data, explainer, show_heatmaps=show_heatmaps, tta=tta, min_face=min_face)
elif ref is not None:
    st.info("Upload a photo of a face (or a group) or take a webcam snapshot.")
