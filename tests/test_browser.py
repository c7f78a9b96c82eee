"""End-to-end checks in a real browser: start the app, start a short run, see the curves; the
confusion matrix at projector sizes; every page in presentation mode; the live video.

The slow tier (`pytest -m slow`, run by .ci/run): each test starts a Streamlit server and a
Chromium, minutes beside anything else. Skipped when Debian's Chromium (/usr/bin/chromium) or
Playwright is absent. Every wait is for a state of the page (an element, the app idle, a layout
that stopped moving), never a fixed time. Saves screenshots to $EMOTION_SCREENSHOTS (default: a
temporary folder) for a human to look at.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def app_url(tmp_path):
    port = _free_port()
    env = dict(os.environ, EMOTION_RUNS_DIR=str(tmp_path / "runs"))
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
         f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=30)
    _stop_trainings(tmp_path / "runs")


def _stop_trainings(runs_dir):
    """Trainings the app started run in their own processes and outlive the server: a failed
    test must not leave them running."""
    from emotion_core import runs

    for info in runs.list_runs(runs_dir):
        if info.state == runs.RUNNING and info.status.get("pid"):
            try:
                os.kill(int(info.status["pid"]), 15)  # SIGTERM: the run stops and saves
            except (ProcessLookupError, PermissionError):
                pass


@pytest.fixture
def shots(tmp_path):
    """Where screenshots go ($EMOTION_SCREENSHOTS, else a temporary folder); skips without Chromium."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    folder = Path(os.environ.get("EMOTION_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _launch(playwright, *flags):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=["--no-sandbox", "--disable-gpu", *flags])


def sync_playwright():
    from playwright.sync_api import sync_playwright as start

    return start()


def _wait_until_idle(page, timeout=180_000):
    """Until the app's script (or fragment) run has ended: Streamlit marks it on the app's root."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(timeout=timeout)


# True once the boxes of the elements matching the selector are the same in two reads 300 ms
# apart: Plotly has finished drawing and resizing, so what is measured is what a person sees.
SETTLED_JS = """selector => {
    const boxes = JSON.stringify([...document.querySelectorAll(selector)].map(e => {
        const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; }));
    const same = boxes === window.__lastBoxes && boxes !== "[]";
    window.__lastBoxes = boxes;
    return same;
}"""


def _wait_until_settled(page, selector, timeout=60_000):
    page.wait_for_function(SETTLED_JS, arg=selector, polling=300, timeout=timeout)


def test_start_a_run_and_watch_the_curves(app_url, shots, tmp_path):
    with sync_playwright() as p:
        browser = _launch(p, "--disable-background-networking", "--disable-component-update")
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url, wait_until="networkidle")
        page.get_by_text("One face per emotion").wait_for(timeout=60_000)
        page.screenshot(path=str(shots / "home.png"), full_page=True)
        page.get_by_role("link", name="Train & compare").click()
        page.get_by_role("button", name="Start training").click(timeout=60_000)
        started = time.time()
        # the curves are drawn once the first batch-level metrics row exists: a trace with points
        # is visible (the page's other traces, empty until an epoch ends, are in the DOM but hidden)
        page.locator(".js-plotly-plot .scatterlayer .trace").filter(visible=True).first.wait_for(timeout=180_000)
        first_point_s = time.time() - started
        page.screenshot(path=str(shots / "train_live.png"), full_page=True)
        print(f"first plotted point {first_point_s:.0f}s after Start")
        assert page.locator(".js-plotly-plot").count() >= 1
        browser.close()


# five trainings started and stopped: about 4 minutes
def test_five_stop_clicks_out_of_five_stop_their_run(app_url, shots, tmp_path):
    """Each time: Start a long run, switch the Run selector away and back (the 2-s poll used to
    race the click then), click Stop once; the run must end as stopped."""
    from emotion_core import runs

    runs_dir = tmp_path / "runs"
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{app_url}/train", wait_until="networkidle")
        page.get_by_role("spinbutton", name="Epochs").fill("300")  # the box, not its help button
        stopped = 0
        for attempt in range(5):
            page.get_by_role("button", name="Start training").click(timeout=60_000)
            stop = page.get_by_role("button", name="Stop", exact=True)
            stop.wait_for(timeout=120_000)
            if attempt:  # another run to switch to exists from the second attempt on
                newest, older = runs.list_runs(runs_dir)[:2]
                for run in (older, newest):
                    _wait_until_idle(page)  # choose while no 2-s poll is redrawing the box
                    page.get_by_role("combobox", name="Run").click()
                    page.get_by_role("option", name=run.path.name, exact=True).click()  # the box shows folders
                    # the chosen run is on show once the progress bar carries its state
                    progress = page.locator("[data-testid='stProgress']")
                    shown = progress.filter(has_text="stopped:") if run is older else progress.filter(has_not_text="stopped:")
                    shown.wait_for(timeout=60_000)
                stop.wait_for(timeout=30_000)
            stop.click()
            deadline = time.time() + 120
            newest = runs.list_runs(runs_dir)[0].path
            while time.time() < deadline:
                state = runs.read_status(newest)["state"]
                if state != runs.RUNNING:
                    break
                time.sleep(0.5)
            stopped += state == "stopped"
        page.screenshot(path=str(shots / "train_after_stops.png"), full_page=True)
        browser.close()
    print(f"{stopped} of 5 Stop clicks stopped their run")
    assert stopped == 5


BOXES_JS = "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height, e.textContent]; })"


def _overlapping(boxes):
    """Pairs of text boxes (x, y, w, h, text) that overlap by more than a pixel."""
    return [(a[4], b[4]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]) > 1 and min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]) > 1]


@pytest.mark.parametrize("presentation", [False, True], ids=["normal", "presentation"])
def test_the_confusion_matrix_is_readable_and_clickable_at_1024x768(app_url, shots, tmp_path, presentation):
    with sync_playwright() as p:
        browser = _launch(p)
        page = browser.new_page(viewport={"width": 1024, "height": 768})  # a classroom projector, sidebar open
        page.goto(f"{app_url}/mistakes", wait_until="networkidle")
        if presentation:
            page.get_by_text("Presentation mode").click()
        matrix = page.locator(".js-plotly-plot").first
        matrix.locator(".scatterlayer .textpoint text").nth(48).wait_for(timeout=180_000)
        _wait_until_settled(page, ".js-plotly-plot .scatterlayer .textpoint text, .js-plotly-plot .xtick text")
        cells = matrix.locator(".scatterlayer .textpoint text").evaluate_all(BOXES_JS)
        ticks = matrix.locator(".xtick text").evaluate_all(BOXES_JS)
        assert len(cells) == 49 and len(ticks) == 7
        assert _overlapping(cells) == [] and _overlapping(ticks) == [], (_overlapping(cells), _overlapping(ticks))
        page.screenshot(path=str(shots / f"mistakes_1024_{'presentation' if presentation else 'normal'}.png"),
                        full_page=True)
        # a click where a person would click: the centre of the marker of true fear (2), predicted sad (5)
        marker = matrix.locator(".scatterlayer .points path").nth(2 * 7 + 5)
        marker.scroll_into_view_if_needed()
        box = marker.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.get_by_role("heading", name="True fear, predicted sad").wait_for(timeout=60_000)
        browser.close()


def test_every_page_in_presentation_mode_at_projector_sizes(app_url, shots, tmp_path):
    """Screenshots for a person to look at (saved to $EMOTION_SCREENSHOTS); fails only if a page errors."""
    with sync_playwright() as p:
        browser = _launch(p)
        for width, height in ((1024, 768), (1280, 720)):
            page = browser.new_page(viewport={"width": width, "height": height})
            for name, path, ready in (("home", "", "One face per emotion"), ("train", "/train", "Start training"),
                                      ("mistakes", "/mistakes", "Most confused pairs"), ("live", "/live", "Upload photos")):
                page.goto(f"{app_url}{path}?present=1", wait_until="networkidle")  # as a shared link would
                page.get_by_text(ready).first.wait_for(timeout=180_000)
                _wait_until_idle(page)
                assert page.locator("[data-testid='stException']").count() == 0, name
                page.screenshot(path=str(shots / f"{name}_{width}x{height}_presentation.png"))
            page.close()
        browser.close()


def _y4m(path, frames, fps=5):
    """Write BGR frames (all one size, even sides) as a Y4M video, what Chromium's fake camera plays."""
    height, width = frames[0].shape[:2]
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


def _camera_frames():
    """6 frames of a face for the fake camera (Chromium loops them): a shared photo when there is
    one, else a drawn face."""
    from conftest import PHOTOS_DIR

    photo = PHOTOS_DIR / "img2.jpg"
    if photo.is_file():
        image = cv2.imread(str(photo))
        scale = min(640 / image.shape[1], 480 / image.shape[0])
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        frame = np.zeros((480, 640, 3), np.uint8)
        top, left = (480 - image.shape[0]) // 2, (640 - image.shape[1]) // 2
        frame[top:top + image.shape[0], left:left + image.shape[1]] = image
    else:
        from emotion_core.data.synthetic import synthetic_faces

        face = cv2.resize(synthetic_faces(14, seed=0)[0][3], (240, 240), interpolation=cv2.INTER_CUBIC)
        frame = np.full((480, 640, 3), 120, np.uint8)
        frame[120:360, 200:440] = face[..., None]
    return [np.roll(frame, shift, axis=1) for shift in range(0, 12, 2)]  # a little movement


def test_live_video_draws_boxes_and_the_strip_chart_moves(app_url, shots, tmp_path):
    video = tmp_path / "camera.y4m"
    _y4m(video, _camera_frames())
    with sync_playwright() as p:
        browser = _launch(p, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                          f"--use-file-for-fake-video-capture={video}")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{app_url}/live", wait_until="networkidle")
        page.get_by_role("radio", name="Live video").click()
        frame = page.frame_locator("iframe[title*='streamlit_webrtc']")
        frame.get_by_role("button", name="START").click(timeout=120_000)
        playing = frame.locator("video")
        playing.wait_for(timeout=60_000)
        # Streamlit replaces the chart on every rerun, so it can vanish between two reads:
        # each read waits until a chart with more points than `after` is on the page.
        def points_beyond(after, timeout):
            script = ("after => { const plot = document.querySelector('.js-plotly-plot');"
                      " const n = plot && plot.data ? plot.data[0].x.length : 0; return n > after ? n : 0; }")
            return page.wait_for_function(script, arg=after, timeout=timeout).json_value()

        # Two analysed frames are enough: the chart's first points, then one more. The camera plays
        # 5 frames a second, so a server slowed by a training beside it is not flooded with frames.
        first = points_beyond(0, 180_000)
        later = points_beyond(first, 180_000)
        picture = cv2.imdecode(np.frombuffer(playing.screenshot(), np.uint8), cv2.IMREAD_COLOR)
        page.screenshot(path=str(shots / "live_video.png"), full_page=True)
        browser.close()
    amber = np.abs(picture.astype(int) - np.array([0, 191, 255])).max(axis=2) < 60  # BGR, after video coding
    assert amber.sum() > 300, "no face box drawn on the video"
    assert later > first > 0, (first, later)  # the strip chart gains points as frames are analysed


# What a person would call broken, measured in the page. Returns one line per problem:
# - a box (picture, widget, chart) reaching past its column (the nearest st.columns column, else
#   the page's main block or the sidebar) or past the window;
# - text cut: a text node reaching past an ancestor that clips it (an ellipsis, a hidden
#   overflow), past its column or past the window;
# - a word broken over two lines ("Patienc" / "e");
# - a line of st.text (fixed lines, such as the probabilities under a face) wrapped onto two;
# - a widget's value cut (a select box's choice, a number);
# - in a Plotly chart, text outside the chart or its legend, or an axis title under the legend;
# - the page scrolling sideways.
LAYOUT_PROBLEMS_JS = (ROOT / "tests" / "layout_problems.js").read_text()


# Every page the app lists, with a text that shows once it has drawn.
PAGES = (("home", "", "One face per emotion"), ("train", "/train", "Start training"),
         ("mistakes", "/mistakes", "Most confused pairs"), ("audit", "/audit", "Label audit"),
         ("live", "/live", "Upload photos"))
# what to measure once it stopped moving: every element, and Plotly's legends and ticks
PAGE_PARTS = "[data-testid='stElementContainer'], .js-plotly-plot .legend, .js-plotly-plot .xtick"
SIDEBAR_OPEN_JS = "() => document.querySelector('[data-testid=\"stSidebar\"]').getBoundingClientRect().right > 200"
SIDEBAR_FOLDED_JS = "() => document.querySelector('[data-testid=\"stSidebar\"]').getBoundingClientRect().right <= 1"


def _large_photo(folder):
    """A photo wider than any column (the app once drew it 1200 px wide in a 700-px one): a
    shared group photo when there is one, else a drawn face on a 1600x1000 canvas."""
    from conftest import PHOTOS_DIR

    if (PHOTOS_DIR / "couple.jpg").is_file():
        return PHOTOS_DIR / "couple.jpg"
    from emotion_core.data.synthetic import synthetic_faces

    canvas = np.full((1000, 1600, 3), 120, np.uint8)
    canvas[250:750, 550:1050] = cv2.resize(synthetic_faces(14, seed=0)[0][3], (500, 500))[..., None]
    cv2.imwrite(str(folder / "wide.png"), canvas)
    return folder / "wide.png"


def _open_everything(page, name, photo, run_name):
    """What a first visit leaves closed or empty: on Mistakes the run's model (whose neutral/sad
    cell has faces, and so a gallery), a photo on Live (with its faces, or classified whole when
    none is found), and the "How Grad-CAM works" explainer beside the first heatmaps."""
    if name == "mistakes":
        page.get_by_role("combobox", name="Model").click()
        page.get_by_role("option").filter(has_text=run_name).click()
        page.get_by_text("Heatmap opacity").wait_for(timeout=180_000)
        _wait_until_idle(page)
    if name == "live":
        page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(photo))
        drawn, whole = page.get_by_text("face(s)").first, page.get_by_text("Classify the whole image as one face")
        drawn.or_(whole).first.wait_for(timeout=180_000)
        if whole.is_visible():
            whole.click()
        drawn.wait_for(timeout=180_000)
    if name in ("mistakes", "live"):
        page.get_by_text("How Grad-CAM works").click(timeout=60_000)
        page.get_by_text("gradients of that score with respect to the maps").wait_for(timeout=30_000)
    _wait_until_idle(page)


def _whole_page_screenshot(page, path):
    """The page from top to bottom: Streamlit scrolls inside its main block, so the window is
    made as tall as that block for the picture (its width, and so the layout, stay the same)."""
    size = page.viewport_size
    tall = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], tall)})
    _wait_until_settled(page, PAGE_PARTS)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    _wait_until_settled(page, PAGE_PARTS)


def _matrix_fits_one_screen(page):
    """In presentation mode: the confusion matrix, scrolled into view, lies whole between
    Streamlit's header and the window's bottom, and its numbers are as large as the page's text."""
    matrix = page.locator(".js-plotly-plot").first
    matrix.scroll_into_view_if_needed()
    box = matrix.bounding_box()
    header = page.locator("[data-testid='stHeader']").bounding_box()
    font_px = "e => parseFloat(getComputedStyle(e).fontSize)"
    numbers = matrix.locator(".scatterlayer .textpoint text").first.evaluate(font_px)
    body = page.locator("html").evaluate(font_px)  # 1rem: the page's body text
    assert box["height"] <= page.viewport_size["height"] - header["height"], (box, header)
    assert numbers >= body, (numbers, body)


# 5 pages x 2 window sizes, a photo and the Grad-CAM of 24 faces: minutes on a busy 2-core server
@pytest.mark.parametrize("presentation", [False, True], ids=["normal", "presentation"])
def test_every_page_fits_1024x768_no_box_past_its_column_and_no_text_cut(app_url, shots, tmp_path, presentation,
                                                                         trained_synthetic_run):
    """Every page with its photo and explainers open, at 1024x768 (the sidebar open in normal mode,
    folded away by presentation mode) and at 1600x900: no box reaches past its column or the
    window, no text is cut or broken mid-word, measured in the page (LAYOUT_PROBLEMS_JS).
    Screenshots of every page go to $EMOTION_SCREENSHOTS for a person to look at."""
    from emotion_core import runs

    shutil.copytree(trained_synthetic_run, tmp_path / "runs" / trained_synthetic_run.name)  # curves on Train
    run_name = runs.load_run(trained_synthetic_run).name
    photo = _large_photo(tmp_path)
    mode = "presentation" if presentation else "normal"
    problems = {}
    with sync_playwright() as p:
        browser = _launch(p, "--disable-background-networking", "--disable-component-update")
        page = browser.new_page(viewport={"width": 1024, "height": 768})  # a classroom projector
        for name, path, ready in PAGES:
            page.goto(f"{app_url}{path}{'?present=1' if presentation else ''}", wait_until="networkidle")
            page.get_by_text(ready).first.wait_for(timeout=180_000)
            _wait_until_idle(page)
            assert page.locator("[data-testid='stException']").count() == 0, name
            _open_everything(page, name, photo, run_name)
            page.wait_for_function(SIDEBAR_FOLDED_JS if presentation else SIDEBAR_OPEN_JS, timeout=30_000)
            if presentation and name == "mistakes":
                _matrix_fits_one_screen(page)
            for width, height in ((1024, 768), (1600, 900)):
                page.set_viewport_size({"width": width, "height": height})
                _wait_until_settled(page, PAGE_PARTS)
                problems[f"{name} {width}x{height}"] = page.evaluate(LAYOUT_PROBLEMS_JS)
                _whole_page_screenshot(page, shots / f"fit_{name}_{width}x{height}_{mode}.png")
            page.set_viewport_size({"width": 1024, "height": 768})
        browser.close()
    assert {where: found for where, found in problems.items() if found} == {}
    assert len(problems) == 2 * len(PAGES)  # every page was measured at both sizes
