"""How smooth is the Live page's video? Frames per second the page displays, beside those it receives.

The Live page's "Live video" sends the webcam to the server, which analyses every frame it can
(faces, emotions, Grad-CAM) and sends the annotated frames back. streamlit-webrtc answers each
camera frame with the newest analysed one, repeating it while the next is analysed, so a smooth-
looking frame rate can hide a slow analysis: this script counts both. It starts the app and a
headless Chromium whose fake camera plays a Y4M file (a face, each frame stamped in its top-left
corner with its number as 8 black/white blocks) and prints, per setting of the Grad-CAM toggle:

- camera: frames the browser captured and sent to the server (WebRTC statistics);
- received: frames the browser received back and decoded (WebRTC statistics);
- displayed: frames the output <video> presented, counted by requestVideoFrameCallback (at most
  one callback per page repaint, so a starved browser counts fewer than the compositor's own
  presentedFrames and getVideoPlaybackQuality(), printed beside it as cross-checks);
- analysed: counted frames that show a camera frame other than the one before (the stamped
  number changed): pictures the server analysed, not repeats; a lower bound, as it is sampled
  at the callbacks' rate.

A benchmark that prints figures, not a test. Run from the project root:

    .venv/bin/python tests/measure_live_fps.py [--seconds 20] [--camera-fps 15]

Needs Debian's Chromium (/usr/bin/chromium) and the Playwright package (no downloaded browser).
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PHOTO = ROOT / ".." / "shared" / "data" / "photos" / "img2.jpg"
WIDTH, HEIGHT, BITS, BLOCK = 640, 480, 8, 16  # the stamp: BITS blocks of BLOCK px from (BLOCK, BLOCK)

# Before any page script, in every frame: keep each RTCPeerConnection, to read its statistics.
INIT_JS = """if (window.RTCPeerConnection && !window.__pcs) {
    window.__pcs = [];
    const Original = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Original {
        constructor(...args) { super(...args); window.__pcs.push(this); }
    };
}"""

# Counts every frame the <video> presents, and those whose stamp differs from the one before.
COUNT_JS = """([bits, block, width, height]) => {
    const video = document.querySelector('video');
    const canvas = Object.assign(document.createElement('canvas'), {width: (bits + 1) * block, height: 2 * block});
    const context = canvas.getContext('2d', {willReadFrequently: true});
    const count = window.__count = {frames: 0, pictures: 0, stamp: -1, presented: 0};
    const tick = (now, metadata) => {
        count.frames++;
        count.presented = metadata.presentedFrames;
        const sx = video.videoWidth / width, sy = video.videoHeight / height;
        context.drawImage(video, 0, 0, canvas.width * sx, canvas.height * sy, 0, 0, canvas.width, canvas.height);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let stamp = 0;
        for (let k = 0; k < bits; k++)  // the green channel at each block's centre
            stamp = 2 * stamp + (pixels[(1.5 * block * canvas.width + (k + 1.5) * block) * 4 + 1] > 128);
        if (stamp !== count.stamp) { count.pictures++; count.stamp = stamp; }
        video.requestVideoFrameCallback(tick);
    };
    video.requestVideoFrameCallback(tick);
}"""

# The counters now: the video's own, its playback quality, and the peer connection's statistics.
SNAPSHOT_JS = """async () => {
    const video = document.querySelector('video'), quality = video.getVideoPlaybackQuality();
    const s = {t: performance.now() / 1000, ...window.__count, total: quality.totalVideoFrames,
               dropped: quality.droppedVideoFrames, width: video.videoWidth, height: video.videoHeight};
    for (const pc of window.__pcs || []) (await pc.getStats()).forEach(r => {
        if (r.type === 'media-source' && r.kind === 'video') s.captured = r.frames;
        if (r.type === 'outbound-rtp' && r.kind === 'video')
            Object.assign(s, {sent: r.framesSent, sentSize: `${r.frameWidth}x${r.frameHeight}`,
                              limit: r.qualityLimitationReason});
        if (r.type === 'inbound-rtp' && r.kind === 'video')
            Object.assign(s, {received: r.framesReceived, decoded: r.framesDecoded, lost: r.framesDropped});
    });
    return s;
}"""


def camera_frames(count):
    """`count` frames of a face (the shared photo, else a drawn face), moving a little, each
    stamped with its number (modulo 2**BITS) as black/white blocks in the top-left corner."""
    if PHOTO.is_file():
        face = cv2.resize(cv2.imread(str(PHOTO)), (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    else:
        from emotion_core.data.synthetic import synthetic_faces

        face = np.full((HEIGHT, WIDTH, 3), 120, np.uint8)
        face[120:360, 200:440] = cv2.resize(synthetic_faces(14, seed=0)[0][3], (240, 240))[..., None]
    frames = []
    for number in range(count):
        frame = np.roll(face, 2 * (number % 6), axis=1)
        frame[BLOCK // 2:BLOCK * 5 // 2, BLOCK // 2:(BITS + 1) * BLOCK + BLOCK // 2] = 128  # a grey border
        for k in range(BITS):
            bit = (number % 2 ** BITS) >> (BITS - 1 - k) & 1
            frame[BLOCK:2 * BLOCK, (k + 1) * BLOCK:(k + 2) * BLOCK] = 255 * bit
        frames.append(frame)
    return frames


def write_y4m(path, frames, fps):
    """BGR frames as a Y4M video at `fps`, what Chromium's fake camera plays (in a loop)."""
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


def start_server(folder):
    """The app on a free port, its output in folder/server.log; returns (process, port)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, EMOTION_RUNS_DIR=str(folder / "runs"))
    with open(folder / "server.log", "wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless=true",
             f"--server.port={port}", "--server.address=127.0.0.1", "--browser.gatherUsageStats=false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), port


def wait_for(server, port):
    """The app's URL once it listens."""
    deadline = time.time() + 120
    while time.time() < deadline and server.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("the Streamlit server did not start (see its log below)")


def measure(page, frame, seconds, heatmaps):
    """Counters over `seconds`, after a 3-s warm-up; prints the rates."""
    page.wait_for_timeout(3000)
    before = frame.evaluate(SNAPSHOT_JS)
    page.wait_for_timeout(seconds * 1000)
    after = frame.evaluate(SNAPSHOT_JS)
    span = after["t"] - before["t"]

    def rate(key):
        return (after.get(key, 0) - before.get(key, 0)) / span

    shown = after["frames"] - before["frames"]
    print(f"heatmaps: {heatmaps}")
    print(f"  camera:    {rate('captured'):.1f} frames/s captured, {rate('sent'):.1f} sent to the server "
          f"({after.get('sentSize')}; quality limited by: {after.get('limit')})")
    print(f"  received:  {rate('received'):.1f} frames/s from the server ({rate('decoded'):.1f} decoded, "
          f"{after.get('lost', 0) - before.get('lost', 0)} dropped by WebRTC)")
    print(f"  displayed: {shown / span:.1f} frames/s ({shown} frames in {span:.1f} s; dropped "
          f"{after['dropped'] - before['dropped']}) [callbacks; the compositor's presentedFrames: "
          f"{rate('presented'):.1f}/s; playback quality: +{after['total'] - before['total']} frames; "
          f"{after['width']}x{after['height']}]")
    print(f"  analysed:  {rate('pictures'):.1f} frames/s new pictures ({after['pictures'] - before['pictures']} "
          f"displayed frames showed a camera frame other than the one before; the rest were repeats)")


def run(url, video_file, seconds):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video_file}", "--autoplay-policy=no-user-gesture-required"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_init_script(INIT_JS)
            page = context.new_page()
            page.goto(f"{url}/live", wait_until="networkidle")
            page.get_by_role("radio", name="Live video").click(timeout=180_000)
            component = page.frame_locator("iframe[title*='streamlit_webrtc']")
            component.get_by_role("button", name="START").click(timeout=180_000)
            component.locator("video").first.wait_for(timeout=60_000)
            frame = next(f for f in page.frames if f.query_selector("video"))
            videos = frame.locator("video").count()
            print("video elements in the component:", videos,
                  "(only the server's output: no local preview to count the camera by; WebRTC statistics instead)"
                  if videos == 1 else "(the first is measured)")
            frame.evaluate(COUNT_JS, [BITS, BLOCK, WIDTH, HEIGHT])
            frame.wait_for_function("() => window.__count.frames > 0", timeout=120_000)
            page.locator(".js-plotly-plot").first.wait_for(timeout=180_000)  # the server analyses frames
            measure(page, frame, seconds, "on (the page's default)")
            toggle = page.get_by_role("switch", name="Grad-CAM").or_(page.get_by_role("checkbox", name="Grad-CAM"))
            page.locator("label").filter(has=toggle).first.click(timeout=60_000)  # its label covers the input
            page.get_by_text("How Grad-CAM works").wait_for(state="hidden", timeout=120_000)  # rerun done
            measure(page, frame, seconds, "off")
        finally:
            browser.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20, help="length of each measurement")
    parser.add_argument("--camera-fps", type=int, default=15, help="frame rate of the fake camera")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        sys.exit("Playwright is not installed in this Python: .venv/bin/pip install playwright (no browser download)")
    with tempfile.TemporaryDirectory(prefix="live_fps_") as folder:
        folder = Path(folder)
        count = min(2 ** BITS, 8 * args.camera_fps)  # an 8-s loop: a stamp repeats 8 s later at the earliest
        write_y4m(folder / "camera.y4m", camera_frames(count), args.camera_fps)
        print(f"camera file: {args.camera_fps} frames/s, {WIDTH}x{HEIGHT}, a loop of {count} frames "
              f"({PHOTO.name if PHOTO.is_file() else 'a drawn face'})")
        server = None
        try:
            server, port = start_server(folder)
            run(wait_for(server, port), folder / "camera.y4m", args.seconds)
        except Exception:
            log = (folder / "server.log").read_text(errors="replace")[-3000:] if (folder / "server.log").exists() else ""
            print("server log (end):\n" + log, file=sys.stderr)
            raise
        finally:
            if server is not None:
                server.terminate()
                try:
                    server.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    server.kill()
                    server.wait()


if __name__ == "__main__":
    main()
