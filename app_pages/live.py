"""Live: a webcam snapshot or uploaded photos; every face found, labelled and explained.

Uploaded and webcam images are decoded in memory only: never written to disk or logged.
"""

import streamlit_webrtc  # noqa: F401  (before TensorFlow: see app.py)
import streamlit as st

from emotion_core import settings
from emotion_core.errors import ConfigError, EmotionCoreError
from emotion_core.explain import overlay
from emotion_core.photos.analyse import analyse_photo
from emotion_core.photos.annotate import annotate
from emotion_core.photos.decode import decode_image
from emotion_core.photos.faces import MIN_FACE_FRACTION, MIN_FACE_PIXELS, SMALL_FACE_FRACTION
from emotion_core.photos.video import LiveAnalyser
from emotion_core.plots import emotion_strip_chart, probability_bars
from app_pages._shared import explainer_for, gradcam_explainer, model_picker, plain, rem_px, show_error, show_figure

MAX_FILES = 12
PHOTO_REM, FACES_REM = 36, 22  # side by side on a wide page; on a 1024-px one the faces go under the photo


def options_form():
    """Model and display options; returns (model reference or None, show_heatmaps, tta, min_face)."""
    ref = model_picker(key="live_model")
    with st.container(horizontal=True, gap="large"):  # wraps where the page is narrow: no label cut
        show_heatmaps = st.toggle("Grad-CAM", value=True, key="live_gradcam",
                                  help="colour what pushed the model to its answer")
        tta = st.toggle("Mirror (TTA)", value=False, key="live_tta",
                        help="also classify the mirrored face and average")
        small = st.toggle("Small faces", value=False, key="live_small_faces",
                          help="also scan overlapping parts of the photo, for faces down to 2% of its shorter "
                               "side (group photos; slower)")
    return ref, show_heatmaps, tta, SMALL_FACE_FRACTION if small else MIN_FACE_FRACTION


SOURCES = {"upload": ":material/upload: Upload photos", "snapshot": ":material/photo_camera: Webcam snapshot",
           "video": ":material/videocam: Live video"}


def photos_form(source):
    """(name, bytes) for each photo the user gave, from the uploader or a webcam snapshot."""
    if source == "snapshot":
        snapshot = st.camera_input("Take a snapshot", key="live_webcam")
        return [("webcam snapshot", snapshot.getvalue())] if snapshot is not None else []
    files = st.file_uploader("Photos (JPEG, PNG, WebP)", type=["jpg", "jpeg", "png", "webp"],
                             accept_multiple_files=True, key="live_uploads")
    if len(files or []) > MAX_FILES:
        st.warning(f"Showing the first {MAX_FILES} of {len(files)} photos.")
    return [(f.name, f.getvalue()) for f in (files or [])[:MAX_FILES]]


def show_photo(index, name, data, explainer, *, show_heatmaps, tta, min_face, explain=False):
    """One photo with its faces boxed, and per face its crop (Grad-CAM over it) and probabilities;
    `explain` adds the "How Grad-CAM works" expander under the faces."""
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
    # The photo and its faces side by side where the page is wide, the faces under it where it is
    # not: a photo drawn 1200 px wide in a 700-px column lay under the faces' thumbnails and bars.
    with st.container(horizontal=True, gap="medium"):
        with st.container(width=PHOTO_REM * rem_px()):
            # a caption is Markdown: the upload's name is escaped. "content": the photo's own
            # width, never wider than its box
            st.image(annotate(image, results), caption=plain(f"{name}: {len(results)} face(s)"), width="content")
        with st.container(width=FACES_REM * rem_px()):
            for number, result in enumerate(results, start=1):
                picture, chart = st.columns([1, 2], vertical_alignment="center")
                face = overlay(result.crop, result.heatmap) if show_heatmaps else result.crop
                picture.image(face, caption=f"{number}: {result.emotion}", width="stretch", clamp=True)
                with chart:
                    show_figure(probability_bars(result.probabilities), key=f"live_bars_{index}_{number}")
            if explain and show_heatmaps:
                gradcam_explainer()


def ice_servers():
    """WebRTC's ICE servers: none by default, which is all that localhost and a school network
    where browser and server see each other need; the EMOTION_ICE_SERVERS setting adds STUN/TURN
    for anything farther. A bad setting is reported once at start (app.py) and ignored here."""
    try:
        return {"iceServers": settings.ice_servers()}
    except ConfigError:
        return {"iceServers": []}


def video_panel(explainer, *, show_heatmaps):
    """The webcam as a mirror: boxes, labels and Grad-CAM on every frame, and a strip chart."""
    import av
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    analyser = st.session_state.get("live_analyser")
    if analyser is None or analyser.explainer is not explainer:
        analyser = st.session_state["live_analyser"] = LiveAnalyser(explainer)
    analyser.heatmaps = show_heatmaps
    analyser.paused = st.toggle("Pause", key="live_pause", help="freeze the picture and the chart")

    def on_frame(frame):  # runs on the video thread: no st.* calls here
        return av.VideoFrame.from_ndarray(analyser.process(frame.to_ndarray(format="bgr24")), format="bgr24")

    video, chart = st.columns([3, 2])
    with video:
        webrtc_streamer(key="live_video", mode=WebRtcMode.SENDRECV, video_frame_callback=on_frame,
                        media_stream_constraints={"video": True, "audio": False}, rtc_configuration=ice_servers())
    with chart:
        strip_chart(analyser)
        if show_heatmaps:
            gradcam_explainer()


@st.fragment(run_every=1)
def strip_chart(analyser):
    """The largest face's emotions over the last 30 seconds, smoothed; redrawn every second."""
    seconds, probabilities = analyser.history()
    if len(seconds):
        show_figure(emotion_strip_chart(seconds, probabilities), key="live_strip")
    else:
        st.caption("Press START and look at the camera: the chart of the largest face's emotions fills here.")


st.title("Live")
st.caption("Every face in a photo or in the webcam's video, its emotion probabilities, and where the model "
           "looked. Photos and frames stay in memory: nothing is saved.")
ref, show_heatmaps, tta, min_face = options_form()
# One source at a time (not tabs, which would draw all three): the camera is only asked for
# when a snapshot or the video is chosen.
source = st.segmented_control("Source", list(SOURCES), format_func=SOURCES.get, default="upload",
                              key="live_source", label_visibility="collapsed") or "upload"
if ref is None:
    st.stop()
try:
    explainer = explainer_for(ref)
except EmotionCoreError as error:
    show_error(error)
    st.stop()
if source == "video":
    video_panel(explainer, show_heatmaps=show_heatmaps)
    st.stop()
photos = photos_form(source)
for index, (name, data) in enumerate(photos):
    with st.container(border=True):
        show_photo(index, name, data, explainer, show_heatmaps=show_heatmaps, tta=tta, min_face=min_face,
                   explain=index == 0)
if not photos:
    st.info("Upload a photo of a face (or a group), take a webcam snapshot, or switch to the live video.")
