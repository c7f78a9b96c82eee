"""One end-to-end check in a real browser: start the app, start a short run, see the curves.

Skipped when Debian's Chromium (/usr/bin/chromium) or Playwright is absent. Saves
screenshots to $EMOTION_SCREENSHOTS (default: a temporary folder) for a human to look at.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.browser


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


def test_start_a_run_and_watch_the_curves(app_url, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    shots = Path(os.environ.get("EMOTION_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url, wait_until="networkidle")
        page.get_by_text("One face per emotion").wait_for(timeout=60_000)
        page.screenshot(path=str(shots / "home.png"), full_page=True)
        page.get_by_role("link", name="Train & compare").click()
        page.get_by_role("button", name="Start training").click(timeout=60_000)
        started = time.time()
        # the curves are drawn once the first epoch's metrics line exists
        page.locator(".js-plotly-plot .scatterlayer .trace").first.wait_for(timeout=180_000)
        first_epoch_s = time.time() - started
        page.wait_for_timeout(4000)
        page.screenshot(path=str(shots / "train_live.png"), full_page=True)
        print(f"first plotted epoch {first_epoch_s:.0f}s after Start")
        assert page.locator(".js-plotly-plot").count() >= 1
        browser.close()
